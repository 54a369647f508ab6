"""Idempotent user writes: one unlogged batch per user, timestamped with event time.

An add is ``INSERT ... USING TIMESTAMP t`` and a remove ``DELETE ... USING TIMESTAMP t``, so
Cassandra's last-write-wins keeps the newest action: replaying a micro-batch rewrites identical
cells, and a late or replayed older event can never undo a newer one. ``t`` is a logical clock,
see :data:`WRITE_TIMESTAMP`. A user's latest profile of the micro-batch is an insert with its own
``t`` in the same batch (the same partition key, so one mutation for the server). Grouping one
user's mutations into one batch is what lets a 2-core node keep up, and writing profiles here
rather than through the connector saves a Spark job in every micro-batch with sign-ups (the
first one after a cold start holds only profiles).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent
from cassandra.query import BatchStatement, BatchType, PreparedStatement

from discorecs.core.cassandra import connect, partition_batches
from discorecs.core.names import name_words
from discorecs.core.settings import Settings
from discorecs.core.tables import CHANGED_USERS, PROFILE_COLUMNS, USER_COLLECTION, USERS

MAX_STATEMENTS_PER_BATCH = 50
"""Statements per unlogged batch: a user's changes in one micro-batch rarely exceed it."""
STAGED_ROWS_PER_BATCH = 200
"""Staging rows per unlogged batch (one hour bucket = one partition)."""

_SESSIONS: dict[tuple[str, int], Session] = {}
_WRITERS: dict[tuple[str, int, str], CollectionWriter] = {}


def worker_writer(settings: Settings) -> CollectionWriter:
    """A writer (session + prepared statements) cached per Python worker process.

    Spark reuses Python workers across tasks, so each worker connects and prepares once.
    """
    address = (settings.cassandra.host, settings.cassandra.port)
    if address not in _SESSIONS:
        _SESSIONS[address] = connect(settings)[1]
    key = (*address, settings.keyspace)
    if key not in _WRITERS:
        _WRITERS[key] = CollectionWriter(
            _SESSIONS[address], settings.keyspace, settings.streaming.collection_concurrency
        )
    return _WRITERS[key]


WRITE_TIMESTAMP = "unix_millis(event_time) * 1000000 + pmod(offset, 1000000)"
"""Spark SQL for the write timestamp of a collection change: event-time milliseconds, then the
Kafka offset. One user's events all sit in one partition (key = user_id), so two changes of the
same cell in the same millisecond are still ordered by offset, also across micro-batches (with
plain event-time microseconds a tie would let the tombstone win). It fits a bigint until the
year 2262; this stream is the only writer of ``user_collection`` and ``users``."""


@dataclass(frozen=True)
class UserChanges:
    """One user's writes in a micro-batch: what :meth:`CollectionWriter.write` takes."""

    user_id: int
    profile: Any
    """``None``, or the latest profile row."""
    changes: list[Any]
    """Each release's latest change row."""
    buckets: set[datetime]
    """The hour buckets of those changes and of every profile row."""


class CollectionWriter:
    """Writes users' latest profiles and final collection changes, then stages the users.

    A changed user is one with a collection change or a profile in the micro-batch.
    """

    def __init__(self, session: Session, keyspace: str, concurrency: int) -> None:
        self.session = session
        self.concurrency = concurrency
        self.insert: PreparedStatement = session.prepare(
            USER_COLLECTION.insert(keyspace, timestamp=True)
        )
        self.delete: PreparedStatement = session.prepare(
            USER_COLLECTION.delete(keyspace, ["user_id", "release_id"], timestamp=True)
        )
        self.stage: PreparedStatement = session.prepare(CHANGED_USERS.insert(keyspace))
        self.profile: PreparedStatement = session.prepare(USERS.insert(keyspace, timestamp=True))

    def batches(
        self, user_id: int, changes: Iterable[Any], profile: Any = None
    ) -> Iterator[BatchStatement]:
        """Unlogged batches (one partition key each) for one user's profile and changes.

        Args:
            user_id: The partition key.
            changes: Rows with ``release_id``, ``action``, ``event_time`` and ``write_ts``.
            profile: ``None``, or a row with ``write_ts`` and the :data:`PROFILE_COLUMNS`; it is
                written with its name words (:func:`~discorecs.core.names.name_words`).

        """
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        if profile is not None:
            values = (getattr(profile, column) for column in PROFILE_COLUMNS)
            words = name_words(profile.name, profile.username)
            batch.add(self.profile, (user_id, *values, words, profile.write_ts))
        for change in changes:
            stamp = change.write_ts
            if change.action == "add":
                batch.add(self.insert, (user_id, change.release_id, change.event_time, stamp))
            else:
                batch.add(self.delete, (stamp, user_id, change.release_id))
            if len(batch) >= MAX_STATEMENTS_PER_BATCH:
                yield batch
                batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        if len(batch):
            yield batch

    def write(self, users: Iterable[UserChanges]) -> tuple[int, set[int]]:
        """Write every user's changes, then stage the users, with bounded concurrency.

        Staging comes second: a user is never staged before its changes are written.

        Args:
            users: Each user's latest profile and changes (none for a user with only a profile
                in the batch) and the hours of those.

        Returns:
            (collection row mutations written, the users staged).

        Raises:
            cassandra.DriverException: The first failed write (the micro-batch is then retried).

        """
        statements: list[tuple[BatchStatement, None]] = []
        staged: list[tuple[datetime, int]] = []
        mutations = 0
        for user in users:
            batches = self.batches(user.user_id, user.changes, user.profile)
            statements += ((batch, None) for batch in batches)
            mutations += len(user.changes)
            staged.extend((bucket, user.user_id) for bucket in user.buckets)
        execute_concurrent(
            self.session, statements, concurrency=self.concurrency, raise_on_first_error=True
        )
        staging = [(b, None) for b in partition_batches(self.stage, staged, STAGED_ROWS_PER_BATCH)]
        execute_concurrent(
            self.session, staging, concurrency=self.concurrency, raise_on_first_error=True
        )
        return mutations, {user_id for _, user_id in staged}


def latest_by_user(rows: Iterable[Any]) -> list[UserChanges]:
    """Group collection and profile rows by user, keeping each one's latest.

    Args:
        rows: Rows with ``user_id``, ``event_kind`` (``collections`` or ``users``),
            ``write_ts`` and ``bucket``; a change also has ``release_id``, ``action`` and
            ``event_time``, a profile the :data:`PROFILE_COLUMNS`.

    Returns:
        One entry per user, in the order users first appear: their latest profile (greatest
        ``write_ts``), each release's latest change, and the buckets of those changes and of
        all their profile rows.

    """
    latest: dict[tuple[int, int], Any] = {}
    profiles: dict[int, Any] = {}
    buckets: dict[int, set[datetime]] = defaultdict(set)
    for row in rows:
        user_id = row.user_id
        if row.event_kind == "collections":
            buckets.setdefault(user_id, set())
            key = (user_id, row.release_id)
            if key not in latest or row.write_ts > latest[key].write_ts:
                latest[key] = row
        else:
            buckets[user_id].add(row.bucket)
            if user_id not in profiles or row.write_ts > profiles[user_id].write_ts:
                profiles[user_id] = row
    changes: dict[int, list[Any]] = defaultdict(list)
    for (user_id, _), row in latest.items():
        changes[user_id].append(row)
        buckets[user_id].add(row.bucket)
    return [
        UserChanges(user_id, profiles.get(user_id), changes.get(user_id, []), user_buckets)
        for user_id, user_buckets in buckets.items()
    ]


def write_partition(settings: Settings, rows: Iterable[Any]) -> Iterator[tuple[int, set[int]]]:
    """``mapPartitions`` body: write one partition's users; yield (mutations, users staged).

    Args:
        settings: Cassandra address and keyspace.
        rows: The rows :func:`latest_by_user` takes.

    """
    yield worker_writer(settings).write(latest_by_user(rows))
