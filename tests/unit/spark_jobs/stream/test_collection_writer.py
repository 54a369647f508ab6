"""Collection writes: which statement each change becomes, its parameters, and the batching.

The writer is built without a cluster: its four statements are real driver
``PreparedStatement`` objects made from the CQL the tables generate, with the column types of
``schema/*.cql``, so adding one to a ``BatchStatement`` binds and serialises the values exactly
as a prepared statement from Cassandra would (a value of the wrong type fails to bind).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import NamedTuple

from cassandra.cqltypes import DateType, LongType, SetType, UTF8Type
from cassandra.protocol import ColumnMetadata
from cassandra.query import BatchStatement, BatchType, PreparedStatement

from discorecs.core.cassandra import partition_batches
from discorecs.core.tables import CHANGED_USERS, PROFILE_COLUMNS, USER_COLLECTION, USERS, Table
from spark_jobs.stream.collection_writer import (
    MAX_STATEMENTS_PER_BATCH,
    STAGED_ROWS_PER_BATCH,
    CollectionWriter,
    UserChanges,
    latest_by_user,
)

KEYSPACE = "ks"
DRIVER_TYPES = {
    "bigint": LongType,
    "timestamp": DateType,
    "text": UTF8Type,
    "set<text>": SetType.apply_parameters([UTF8Type]),
}
TIMESTAMP_MARKER = "[timestamp]"
T0 = datetime(2026, 1, 31, 12, 0, 0)


class Change(NamedTuple):
    """One user's change as the stream hands it over (a Spark Row has the same attributes)."""

    release_id: int
    action: str
    event_time: datetime
    write_ts: int


class Profile(NamedTuple):
    """A user's latest profile as the stream hands it over."""

    write_ts: int
    name: str
    username: str
    email: str
    location: str
    joined_at: datetime


PROFILE = Profile(2_000_007, "Ann Lee", "annlee", "ann@example.org", "Leeds", T0)


class Row(NamedTuple):
    """A row of the stream's collection write (a Spark Row has the same attributes)."""

    user_id: int
    event_kind: str
    write_ts: int
    bucket: datetime
    release_id: int | None = None
    action: str | None = None
    name: str | None = None


H0, H1 = T0, T0 + timedelta(hours=1)


def change(user_id: int, release_id: int, action: str, write_ts: int, bucket: datetime) -> Row:
    """A collection change row."""
    return Row(user_id, "collections", write_ts, bucket, release_id, action)


def profile(user_id: int, name: str, write_ts: int, bucket: datetime) -> Row:
    """A profile row."""
    return Row(user_id, "users", write_ts, bucket, name=name)


def bind_columns(cql: str) -> list[str]:
    """The column of each ``?`` of an INSERT or DELETE, in the order they are bound."""
    if cql.startswith("INSERT"):
        match = re.search(r"\(([^)]*)\) VALUES", cql)
        assert match is not None
        columns = match.group(1).split(", ")
        return columns + ([TIMESTAMP_MARKER] if "USING TIMESTAMP ?" in cql else [])
    markers = re.findall(r"USING TIMESTAMP \?|(\w+) = \?", cql)
    return [column or TIMESTAMP_MARKER for column in markers]


def prepared(table: Table, cql: str) -> PreparedStatement:
    """A driver prepared statement for ``cql``, as Cassandra would describe its bind markers."""
    types = dict(table.columns)
    columns = bind_columns(cql)
    metadata = [
        ColumnMetadata(
            KEYSPACE,
            table.name,
            column,
            LongType if column == TIMESTAMP_MARKER else DRIVER_TYPES[types[column]],
        )
        for column in columns
    ]
    routing = [columns.index(c) for c in table.partition_key]
    return PreparedStatement.from_message(
        cql.encode(), metadata, routing, None, cql, KEYSPACE, 5, None, None
    )


def writer() -> CollectionWriter:
    """A writer with the statements its constructor prepares, and no session."""
    w = CollectionWriter.__new__(CollectionWriter)
    w.insert = prepared(USER_COLLECTION, USER_COLLECTION.insert(KEYSPACE, timestamp=True))
    w.delete = prepared(
        USER_COLLECTION,
        USER_COLLECTION.delete(KEYSPACE, ["user_id", "release_id"], timestamp=True),
    )
    w.stage = prepared(CHANGED_USERS, CHANGED_USERS.insert(KEYSPACE))
    w.profile = prepared(USERS, USERS.insert(KEYSPACE, timestamp=True))
    return w


WRITER = writer()
STATEMENTS = {
    statement.query_id: (name, statement)
    for name, statement in (
        ("insert", WRITER.insert),
        ("delete", WRITER.delete),
        ("stage", WRITER.stage),
        ("profile", WRITER.profile),
    )
}


def contents(batch: BatchStatement) -> list[tuple[str, list[object]]]:
    """What a batch holds: (statement, decoded parameters) for each statement added."""
    out = []
    for is_prepared, query_id, values in batch._statements_and_parameters:
        assert is_prepared
        name, statement = STATEMENTS[query_id]
        columns = statement.column_metadata
        out.append((name, [c.type.deserialize(v, 5) for c, v in zip(columns, values, strict=True)]))
    return out


def test_the_stand_in_statements_bind_like_the_cql() -> None:
    assert bind_columns(WRITER.insert.query_string) == [
        "user_id",
        "release_id",
        "added_at",
        TIMESTAMP_MARKER,
    ]
    assert bind_columns(WRITER.delete.query_string) == [TIMESTAMP_MARKER, "user_id", "release_id"]
    assert bind_columns(WRITER.stage.query_string) == ["bucket", "user_id"]
    assert bind_columns(WRITER.profile.query_string) == [
        "user_id",
        *PROFILE_COLUMNS,
        "name_words",
        TIMESTAMP_MARKER,
    ]


def test_adds_insert_and_removes_delete_with_the_write_timestamp() -> None:
    changes = [
        Change(42, "add", T0, 1_000_001),
        Change(43, "remove", T0 + timedelta(seconds=1), 1_000_002),
        Change(44, "add", T0 + timedelta(seconds=2), 1_000_003),
    ]
    (batch,) = list(WRITER.batches(7, changes))
    assert batch.batch_type == BatchType.UNLOGGED
    assert contents(batch) == [
        ("insert", [7, 42, T0, 1_000_001]),
        ("delete", [1_000_002, 7, 43]),
        ("insert", [7, 44, T0 + timedelta(seconds=2), 1_000_003]),
    ]
    assert batch.routing_key == LongType.serialize(7, 5)


def test_a_long_change_list_is_split_into_full_batches() -> None:
    n = 2 * MAX_STATEMENTS_PER_BATCH + 20
    changes = [
        Change(r, "add" if r % 3 else "remove", T0 + timedelta(milliseconds=r), r) for r in range(n)
    ]
    batches = list(WRITER.batches(9, changes))
    assert [len(b) for b in batches] == [MAX_STATEMENTS_PER_BATCH, MAX_STATEMENTS_PER_BATCH, 20]
    held = [entry for batch in batches for entry in contents(batch)]
    assert [kind for kind, _ in held] == ["insert" if r % 3 else "delete" for r in range(n)]
    assert [p[1] if kind == "insert" else p[2] for kind, p in held] == list(range(n))
    assert all(b.routing_key == LongType.serialize(9, 5) for b in batches)


def test_exactly_one_full_batch_and_no_empty_batches() -> None:
    changes = [Change(r, "add", T0, r) for r in range(MAX_STATEMENTS_PER_BATCH)]
    assert [len(b) for b in WRITER.batches(1, changes)] == [MAX_STATEMENTS_PER_BATCH]
    assert list(WRITER.batches(1, [])) == []


def test_a_profile_is_inserted_first_with_its_write_timestamp_in_the_changes_batch() -> None:
    changes = [Change(r, "add", T0, r) for r in range(MAX_STATEMENTS_PER_BATCH)]
    batches = list(WRITER.batches(7, changes, PROFILE))
    assert [len(b) for b in batches] == [MAX_STATEMENTS_PER_BATCH, 1], "the profile counts"
    kind, values = contents(batches[0])[0]
    *profile, words, stamp = values
    assert (kind, profile, stamp) == (
        "profile",
        [7, "Ann Lee", "annlee", "ann@example.org", "Leeds", T0],
        2_000_007,
    )
    assert words == {"ann", "lee", "annlee"}, "the words a search finds the user by"
    assert batches[0].routing_key == LongType.serialize(7, 5)


def test_a_profile_alone_is_one_batch() -> None:
    (batch,) = list(WRITER.batches(3, [], PROFILE))
    assert [kind for kind, _ in contents(batch)] == ["profile"]


def test_staging_is_one_batch_per_hour_bucket() -> None:
    batches = list(
        partition_batches(WRITER.stage, [(H0, 1), (H1, 2), (H0, 3)], STAGED_ROWS_PER_BATCH)
    )
    assert all(b.batch_type == BatchType.UNLOGGED for b in batches)
    assert [contents(b) for b in batches] == [
        [("stage", [H0, 1]), ("stage", [H0, 3])],
        [("stage", [H1, 2])],
    ]
    assert batches[0].routing_key == DateType.serialize(H0, 5)


def test_a_large_bucket_is_split_into_batches_of_staged_rows() -> None:
    staged = [(H0, u) for u in range(2 * STAGED_ROWS_PER_BATCH + 50)] + [(H1, 5)]
    batches = list(partition_batches(WRITER.stage, staged, STAGED_ROWS_PER_BATCH))
    assert [len(b) for b in batches] == [STAGED_ROWS_PER_BATCH, STAGED_ROWS_PER_BATCH, 50, 1]
    for batch in batches:
        buckets = {params[0] for _, params in contents(batch)}
        assert len(buckets) == 1
    first_bucket = [p[1] for b in batches[:3] for _, p in contents(b)]
    assert first_bucket == list(range(2 * STAGED_ROWS_PER_BATCH + 50))
    assert list(partition_batches(WRITER.stage, [], STAGED_ROWS_PER_BATCH)) == []


def test_each_release_keeps_its_latest_change_and_only_that_change_s_bucket() -> None:
    rows = [
        change(7, 42, "add", 3, H1),
        change(7, 42, "remove", 1, H0),
        change(7, 43, "add", 2, H1),
    ]
    assert latest_by_user(rows) == [UserChanges(7, None, [rows[0], rows[2]], {H1})]


def test_the_latest_profile_is_kept_and_every_profile_row_stages_its_hour() -> None:
    rows = [profile(5, "old", 1, H0), profile(5, "new", 9, H1), profile(5, "mid", 4, H1)]
    (user,) = latest_by_user(rows)
    assert (user.user_id, user.profile.name, user.changes, user.buckets) == (5, "new", [], {H0, H1})


def test_users_come_in_first_seen_order_with_their_own_profile_and_changes() -> None:
    rows = [
        change(2, 10, "add", 5, H0),
        profile(1, "Ann", 1, H1),
        change(1, 10, "remove", 6, H0),
        change(2, 11, "add", 7, H0),
    ]
    assert latest_by_user(rows) == [
        UserChanges(2, None, [rows[0], rows[3]], {H0}),
        UserChanges(1, rows[1], [rows[2]], {H0, H1}),
    ]
    assert latest_by_user([]) == []
