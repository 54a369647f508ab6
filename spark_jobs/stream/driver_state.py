"""What the stream keeps on the driver across micro-batches: connections and known releases."""

from __future__ import annotations

from datetime import datetime

from cassandra.cluster import Cluster, Session
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.query import PreparedStatement
from confluent_kafka import Producer

from discorecs.core.cassandra import connect, existing_release_ids
from discorecs.core.settings import Settings
from discorecs.core.tables import RELEASE_TRENDING
from discorecs.core.topics import producer_config

TRENDING_CONCURRENCY = 32


class DriverState:
    """A Cassandra session, a Kafka producer and the release ids known to exist.

    Releases are never deleted, so a known id stays known; an unknown id is asked again next
    time (it may have been loaded since). In steady state the release check costs no query.
    Connections are opened on first use.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.known_releases: set[int] = set()
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._producer: Producer | None = None
        self._trending: PreparedStatement | None = None

    @property
    def session(self) -> Session:
        """The driver session (connected on first use)."""
        if self._session is None:
            self._cluster, self._session = connect(self.settings)
        return self._session

    @property
    def producer(self) -> Producer:
        """The idempotent Kafka producer (created on first use)."""
        if self._producer is None:
            self._producer = Producer(producer_config(self.settings, **{"linger.ms": 5}))
        return self._producer

    def unknown_releases(self, release_ids: set[int]) -> set[int]:
        """The ids among ``release_ids`` that are not in the ``releases`` table."""
        missing = sorted(release_ids - self.known_releases)
        if not missing:
            return set()
        self.known_releases |= existing_release_ids(self.session, self.settings.keyspace, missing)
        return set(missing) - self.known_releases

    def write_trending(self, batch_id: int, counts: dict[tuple[datetime, int], int]) -> None:
        """Upsert this batch's activity count per (hour, release)."""
        if self._trending is None:
            self._trending = self.session.prepare(RELEASE_TRENDING.insert(self.settings.keyspace))
        rows = [(hour, release, batch_id, n) for (hour, release), n in counts.items()]
        execute_concurrent_with_args(
            self.session,
            self._trending,
            rows,
            concurrency=TRENDING_CONCURRENCY,
            raise_on_first_error=True,
        )

    def close(self) -> None:
        """Flush the producer and close the Cassandra connection, if they were opened."""
        if self._producer is not None:
            self._producer.flush(30)
        if self._cluster is not None:
            self._cluster.shutdown()
