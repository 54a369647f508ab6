"""What the stream keeps on the driver across micro-batches: connections and known releases."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

from cassandra.cluster import Cluster, Session
from cassandra.concurrent import execute_concurrent
from cassandra.query import PreparedStatement

from discorecs.core.cassandra import (
    ReleaseIdLookup,
    commitlog_lag_block_s,
    connect,
    partition_batches,
)
from discorecs.core.settings import Settings
from discorecs.core.tables import BATCH_RUNS, RELEASE_TRENDING_BATCHES, STREAM_PIPELINE

TRENDING_ROWS_PER_BATCH = 500
"""Trending counts a batch: a micro-batch's counts share one partition (its hour)."""
TRENDING_CONCURRENCY = 4
"""Trending batches in flight at once."""


def barrier_wait_s(lag_block_s: float) -> float:
    """How long after its last write a batch waits before its barrier write (see make_durable).

    A fifth more than the nodes' commit log lag block, and at least 10 ms more.
    """
    return max(1.2 * lag_block_s, lag_block_s + 0.01)


class DriverState:
    """A Cassandra session and the release ids known to exist.

    Releases are never deleted, so a known id stays known; an unknown id is asked again next
    time (it may have been loaded since). In steady state the release check costs no query.
    Connections are opened on first use.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.known_releases: set[int] = set()
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._trending: PreparedStatement | None = None
        self._release_ids: ReleaseIdLookup | None = None
        self._durable: PreparedStatement | None = None
        self._lag_block_s: float | None = None
        self.run_id = uuid.uuid1()

    @property
    def session(self) -> Session:
        """The driver session (connected on first use)."""
        if self._session is None:
            self._cluster, self._session = connect(self.settings)
        return self._session

    def unknown_releases(self, release_ids: set[int]) -> set[int]:
        """The ids among ``release_ids`` that are not in the ``releases`` table."""
        missing = sorted(release_ids - self.known_releases)
        if not missing:
            return set()
        if self._release_ids is None:
            self._release_ids = ReleaseIdLookup(self.session, self.settings.keyspace)
        self.known_releases |= self._release_ids.existing(missing)
        return set(missing) - self.known_releases

    def write_trending(self, batch_id: int, counts: dict[tuple[datetime, int], int]) -> None:
        """Upsert this batch's activity count per (hour, release), in batches per hour."""
        if self._trending is None:
            self._trending = self.session.prepare(
                RELEASE_TRENDING_BATCHES.insert(self.settings.keyspace)
            )
        rows = [(hour, release, batch_id, n) for (hour, release), n in counts.items()]
        batches = partition_batches(self._trending, rows, TRENDING_ROWS_PER_BATCH)
        execute_concurrent(
            self.session,
            [(batch, None) for batch in batches],
            concurrency=TRENDING_CONCURRENCY,
            raise_on_first_error=True,
        )

    def make_durable(self, batch_id: int) -> float:
        """Return once every Cassandra write acknowledged before the call is on disk.

        With ``commitlog_sync: periodic`` Cassandra acknowledges a write before its commit log
        is synced, and a ``kill -9`` loses what was not synced yet (replay stops at the last
        sync marker). But it does not acknowledge a write while the last completed sync began
        more than the lag block before it (:func:`commitlog_lag_block_s`, read from the nodes
        once). So: wait longer than that after the batch's last acknowledged write, then write
        one row (this batch's id in ``batch_runs``, pipeline ``stream``); once that is
        acknowledged, a sync that began after every write of the batch has completed. With
        three replicas the barrier and every write are QUORUM, so each write is synced on at
        least one node that acknowledged it. Nodes that sync before acknowledging (``batch``,
        ``group``) need no barrier. The stream commits the batch only after this returns.

        With ``streaming.durability_barrier`` off it returns at once (to measure its cost).

        Returns:
            Seconds waited before the barrier write.

        """
        if not self.settings.streaming.durability_barrier:
            return 0.0
        if self._lag_block_s is None:
            self._lag_block_s = commitlog_lag_block_s(self.session)
        if not self._lag_block_s:
            return 0.0
        wait = barrier_wait_s(self._lag_block_s)
        time.sleep(wait)
        if self._durable is None:
            self._durable = self.session.prepare(BATCH_RUNS.insert(self.settings.keyspace))
        self.session.execute(
            self._durable, (STREAM_PIPELINE, self.run_id, "durable", "ok", batch_id, wait, "")
        )
        return wait

    def close(self) -> None:
        """Close the Cassandra connection, if it was opened."""
        if self._cluster is not None:
            self._cluster.shutdown()
