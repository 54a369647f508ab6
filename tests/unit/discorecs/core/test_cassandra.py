"""The DDL statements of schema/*.cql, read through the package, for any keyspace; the nodes'
commit log settings the stream's durability barrier waits on; timed-out writes resent."""

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from cassandra import ConsistencyLevel, WriteType
from cassandra.cqltypes import LongType
from cassandra.policies import RetryPolicy
from cassandra.protocol import ColumnMetadata
from cassandra.query import BatchType, PreparedStatement

from discorecs.core.cassandra import (
    SCHEMA,
    WRITE_TIMEOUT_RETRIES,
    UpsertRetryPolicy,
    commitlog_lag_block_s,
    duration_s,
    new_cluster,
    partition_batches,
    schema_statements,
)
from discorecs.core.settings import Settings
from tests.support import REPO_ROOT


def test_schema_statements_use_the_given_keyspace() -> None:
    statements = schema_statements("ks_test")
    assert statements[0].startswith("CREATE KEYSPACE IF NOT EXISTS ks_test")
    assert all("{keyspace}" not in s for s in statements)
    assert all("IF NOT EXISTS" in s for s in statements)
    assert any("vector<float, 15>" in s for s in statements)
    assert not any(line.lstrip().startswith("--") for s in statements for line in s.splitlines())


def test_the_packaged_schema_is_the_checkout_schema() -> None:
    packaged = {entry.name: entry.read_text() for entry in SCHEMA.iterdir()}
    checkout = {path.name: path.read_text() for path in (REPO_ROOT / "schema").glob("*.cql")}
    assert packaged == checkout


def test_one_statement_per_create_or_alter() -> None:
    statements = schema_statements("ks")
    text = "".join(path.read_text() for path in sorted((REPO_ROOT / "schema").glob("*.cql")))
    starts = ("CREATE ", "ALTER TABLE ")
    assert len(statements) == sum(line.startswith(starts) for line in text.splitlines())
    assert all(s.startswith(starts) for s in statements)
    alters = [s for s in statements if s.startswith("ALTER TABLE ")]
    assert alters and all(" ADD IF NOT EXISTS " in s for s in alters), "idempotent"


def test_the_keyspace_gets_the_replication_factor() -> None:
    assert "'replication_factor': 1}" in schema_statements("ks")[0]
    keyspace = schema_statements("ks", replication_factor=3)[0]
    assert "'class': 'SimpleStrategy', 'replication_factor': 3}" in keyspace
    assert all("{replication_factor}" not in s for s in schema_statements("ks"))


@pytest.mark.parametrize(
    ("text", "seconds"), [("10000ms", 10.0), ("100ms", 0.1), ("2s", 2.0), ("1.5m", 90.0)]
)
def test_cassandra_durations_in_seconds(text: str, seconds: float) -> None:
    assert duration_s(text) == pytest.approx(seconds)


def test_a_bad_duration_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a Cassandra duration"):
        duration_s("soon")


@dataclass
class FakeHost:
    address: str
    is_up: bool = True


@dataclass
class FakeSession:
    """Answers the settings query per host, as each node's system_views.settings would."""

    settings: dict[str, dict[str, str | None]]
    asked: list[str] = field(default_factory=list)

    @property
    def cluster(self) -> SimpleNamespace:
        hosts = [FakeHost(a) for a in self.settings] + [FakeHost("down", is_up=False)]
        return SimpleNamespace(metadata=SimpleNamespace(all_hosts=lambda: hosts))

    def prepare(self, query: str) -> str:
        return query

    def execute(self, _query: str, params: tuple[list[str]], host: FakeHost) -> list[object]:
        self.asked.append(host.address)
        values = self.settings[host.address]
        return [SimpleNamespace(name=n, value=values.get(n)) for n in params[0] if n in values]


def periodic(period: str, block: str | None = None) -> dict[str, str | None]:
    return {
        "commitlog_sync": "periodic",
        "commitlog_sync_period": period,
        "periodic_commitlog_sync_lag_block": block,
    }


def test_the_lag_block_is_one_and_a_half_periods_unless_set() -> None:
    assert commitlog_lag_block_s(FakeSession({"a": periodic("100ms")})) == pytest.approx(0.15)
    assert commitlog_lag_block_s(FakeSession({"a": periodic("100ms", "40ms")})) == 0.04


def test_the_slowest_live_node_counts_and_synced_modes_need_no_wait() -> None:
    session = FakeSession({"a": periodic("100ms"), "b": periodic("10000ms")})
    assert commitlog_lag_block_s(session) == pytest.approx(15.0)
    assert session.asked == ["a", "b"]
    synced: dict[str, str | None] = {"commitlog_sync": "group", "commitlog_sync_period": "0ms"}
    assert commitlog_lag_block_s(FakeSession({"a": synced, "b": {"commitlog_sync": "batch"}})) == 0


def two_column_insert() -> PreparedStatement:
    """``INSERT INTO ks.t (p, c) VALUES (?, ?)`` prepared as Cassandra describes it (``p``: key)."""
    cql = "INSERT INTO ks.t (p, c) VALUES (?, ?)"
    metadata = [ColumnMetadata("ks", "t", name, LongType) for name in ("p", "c")]
    return PreparedStatement.from_message(
        cql.encode(), metadata, [0], None, cql, "ks", 5, None, None
    )


def test_partition_batches_hold_one_partition_each_and_at_most_size_rows() -> None:
    statement = two_column_insert()
    batches = list(partition_batches(statement, [(1, 10), (2, 20), (1, 11), (1, 12)], 2))
    held = [
        [
            tuple(LongType.deserialize(v, 5) for v in values)
            for _, _, values in b._statements_and_parameters
        ]
        for b in batches
    ]
    assert held == [[(1, 10), (1, 11)], [(1, 12)], [(2, 20)]]
    assert all(b.batch_type == BatchType.UNLOGGED for b in batches)
    assert [b.routing_key for b in batches] == [LongType.serialize(p, 5) for p in (1, 1, 2)]
    assert list(partition_batches(statement, [], 2)) == []


def test_a_timed_out_write_is_sent_again_at_its_consistency_then_its_error_raised() -> None:
    policy, quorum = UpsertRetryPolicy(), ConsistencyLevel.QUORUM
    decisions = [
        policy.on_write_timeout(None, quorum, WriteType.UNLOGGED_BATCH, 1, 0, retry)
        for retry in range(WRITE_TIMEOUT_RETRIES + 1)
    ]
    assert decisions == [(RetryPolicy.RETRY, quorum)] * WRITE_TIMEOUT_RETRIES + [
        (RetryPolicy.RETHROW, None)
    ]


def test_every_session_resends_timed_out_writes() -> None:
    cluster = new_cluster(Settings())
    assert isinstance(cluster.profile_manager.default.retry_policy, UpsertRetryPolicy)


def test_no_table_has_a_counter_so_a_write_sent_twice_leaves_the_same_rows() -> None:
    assert not any("counter" in statement.lower() for statement in schema_statements("ks"))
