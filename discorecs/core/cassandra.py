"""One way to open a Cassandra session, apply the CQL schema, batch rows and look up release ids."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.policies import (
    ConstantReconnectionPolicy,
    DCAwareRoundRobinPolicy,
    LoadBalancingPolicy,
    RetryPolicy,
    TokenAwarePolicy,
    WhiteListRoundRobinPolicy,
)
from cassandra.query import BatchStatement, BatchType, PreparedStatement

from discorecs.core.logs import get_logger
from discorecs.core.names import name_words
from discorecs.core.settings import Settings
from discorecs.core.tables import RELEASES, USERS

SCHEMA = files("discorecs.core") / "schema"
"""The CQL files of ``schema/``, shipped inside the package (``discorecs/core/schema`` links
to them)."""
ID_LOOKUP_CHUNK = 100
SYNC_LAG_BLOCK_PERIODS = 1.5
"""Cassandra's ``periodic_commitlog_sync_lag_block`` when unset: 1.5 sync periods."""
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h|d)$")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
WRITE_TIMEOUT_RETRIES = 3
"""Times a write that timed out is sent again before its error reaches the caller."""
FILL_PAGE = 5000
"""Rows of ``users`` read and written a page by :func:`fill_name_words` (~6 700 rows/s on the
local node: 100 000 users in 15 s)."""
FILL_LOG_PAGES = 20
"""Pages between two progress lines of :func:`fill_name_words`."""

log = get_logger("cassandra")


class UpsertRetryPolicy(RetryPolicy):
    """The driver's default policy, but a write that timed out is sent again.

    The default resends only a logged batch's batch-log write, so one timeout on a busy or
    flushing node failed the stream's micro-batch (replayed after ``streaming.retry_seconds``)
    or the hourly run's last writes. Every write here is an upsert or a delete at a set
    timestamp (no counter, no list append: ``schema/`` has none), so writing it twice leaves
    the same rows; the Spark connector's batches are resent for the same reason
    (``spark_jobs.session``).
    """

    def on_write_timeout(
        self,
        query: Any,
        consistency: int,
        write_type: str,
        required_responses: int,
        received_responses: int,
        retry_num: int,
    ) -> tuple[int, int | None]:
        """Retry at the same consistency up to :data:`WRITE_TIMEOUT_RETRIES` times."""
        if retry_num < WRITE_TIMEOUT_RETRIES:
            return self.RETRY, consistency
        return self.RETHROW, None


def new_cluster(
    settings: Settings, *, connect_timeout: float = 10.0, only_host: str | None = None
) -> Cluster:
    """A driver ``Cluster`` for the configured nodes (token-aware, protocol v5).

    Every statement runs at ``settings.cassandra.consistency`` (QUORUM: with one node that is
    the one replica; with three, two of them, so one node may be down), and a write that times
    out is sent again (:class:`UpsertRetryPolicy`). A node that went away
    is retried every 2 s (the driver's default backs off to minutes, which would keep a
    restarted stream failing long after Cassandra is back).

    Args:
        settings: Where Cassandra listens and the consistency level.
        connect_timeout: Seconds to wait for a connection (also for the control connection).
        only_host: Talk to this node alone (a health check of one node).

    """
    policy: LoadBalancingPolicy = (
        WhiteListRoundRobinPolicy([only_host])
        if only_host
        else TokenAwarePolicy(DCAwareRoundRobinPolicy())
    )
    profile = ExecutionProfile(
        load_balancing_policy=policy,
        request_timeout=settings.cassandra.request_timeout_s,
        consistency_level=ConsistencyLevel.name_to_value[settings.cassandra.consistency],
        retry_policy=UpsertRetryPolicy(),
    )
    return Cluster(
        [only_host] if only_host else settings.cassandra_hosts,
        port=settings.cassandra.port,
        protocol_version=5,
        connect_timeout=connect_timeout,
        control_connection_timeout=connect_timeout,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        reconnection_policy=ConstantReconnectionPolicy(delay=2.0, max_attempts=None),
    )


def connect(settings: Settings, *, connect_timeout: float = 10.0) -> tuple[Cluster, Session]:
    """Open a driver session to the configured Cassandra node.

    Args:
        settings: Where Cassandra listens.
        connect_timeout: Seconds to wait for the first connection.

    Returns:
        The cluster (shut it down when done) and a session on it.

    """
    cluster = new_cluster(settings, connect_timeout=connect_timeout)
    try:
        return cluster, cluster.connect()
    except Exception:
        cluster.shutdown()
        raise


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """Context manager yielding a session; the cluster is shut down on exit."""
    cluster, session = connect(settings)
    try:
        yield session
    finally:
        cluster.shutdown()


def schema_statements(
    keyspace: str, schema_dir: Traversable = SCHEMA, *, replication_factor: int = 1
) -> list[str]:
    """The DDL statements of ``schema/*.cql`` in file order, for the given keyspace.

    Args:
        keyspace: Keyspace name substituted for ``{keyspace}``.
        schema_dir: Folder of ``.cql`` files.
        replication_factor: Substituted for ``{replication_factor}`` (the keyspace's copies).

    Returns:
        One statement per entry, comments stripped.

    """
    statements: list[str] = []
    cql_files = sorted(
        (entry for entry in schema_dir.iterdir() if entry.name.endswith(".cql")),
        key=lambda entry: entry.name,
    )
    for path in cql_files:
        lines = [
            line for line in path.read_text().splitlines() if not line.lstrip().startswith("--")
        ]
        for chunk in "\n".join(lines).split(";"):
            if chunk.strip():
                statement = chunk.strip().replace("{keyspace}", keyspace)
                statements.append(
                    statement.replace("{replication_factor}", str(replication_factor))
                )
    return statements


def apply_schema(session: Session, keyspace: str, *, replication_factor: int = 1) -> int:
    """Create the keyspace, tables and indexes if missing (idempotent).

    An existing keyspace keeps its replication (``CREATE KEYSPACE IF NOT EXISTS``). A ``users``
    table from before ``name_words`` gets the column and, once, its rows' words
    (:func:`fill_name_words`): the apply that adds the column fills it.

    Args:
        session: An open driver session.
        keyspace: Keyspace to create the tables in.
        replication_factor: Copies of each row (``Settings.replication_factor``: min(3, nodes)).

    Returns:
        The number of statements run.

    """
    statements = schema_statements(keyspace, replication_factor=replication_factor)
    columns = session.prepare(
        "SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?"
    )
    user_columns = {row.column_name for row in session.execute(columns, (keyspace, USERS.name))}
    for statement in statements:
        session.execute(statement, timeout=60)
    if user_columns and "name_words" not in user_columns:
        log.info("name_words_filled", keyspace=keyspace, users=fill_name_words(session, keyspace))
    return len(statements)


def fill_name_words(
    session: Session, keyspace: str, *, page_size: int = FILL_PAGE, concurrency: int = 64
) -> int:
    """Write every ``users`` row's name words, as the stream would have written them.

    Each row's words are written with its name's write time (the profile event's time), so a
    later profile event still wins and an earlier one never does; filling twice changes nothing.

    Args:
        session: An open driver session.
        keyspace: Keyspace of the ``users`` table.
        page_size: Rows read and written a page.
        concurrency: Writes in flight.

    Returns:
        The rows written (those with a name or username).

    """
    read = session.prepare(
        f"SELECT user_id, name, username, WRITETIME(name) AS name_at, "
        f"WRITETIME(username) AS username_at FROM {keyspace}.{USERS.name}"
    )
    read.fetch_size = page_size
    write = session.prepare(USERS.insert(keyspace, ["user_id", "name_words"], timestamp=True))
    rows = session.execute(read)
    written = 0
    for page in itertools.count(1):
        values = [
            (row.user_id, name_words(row.name, row.username), row.name_at or row.username_at)
            for row in rows.current_rows
            if row.name_at or row.username_at
        ]
        execute_concurrent_with_args(
            session, write, values, concurrency=concurrency, raise_on_first_error=True
        )
        written += len(values)
        if not rows.has_more_pages:
            break
        if page % FILL_LOG_PAGES == 0:
            log.info("name_words_filling", keyspace=keyspace, users=written)
        rows.fetch_next_page()
    return written


def partition_batches(
    statement: PreparedStatement, rows: Iterable[Sequence[Any]], size: int
) -> Iterator[BatchStatement]:
    """Unlogged batches of ``statement``, each of at most ``size`` rows of one partition.

    Rows of one partition in one batch are one mutation for the server, and a request carries
    many rows: ~10 000 rows of one partition went in 0.1-0.2 s as batches of 500, against 1.4-2.0
    s a request a row, a tenth of the client's and of the node's CPU (docs/benchmarks.md,
    "Twenty-fifth pass").

    Args:
        statement: A statement whose first bound value is the table's whole partition key.
        rows: Its bound values, one sequence a row.
        size: Rows a batch at most.

    Yields:
        Batches in the order each partition's rows first appear, rows in their given order.

    """
    by_partition: dict[Any, list[Sequence[Any]]] = defaultdict(list)
    for row in rows:
        by_partition[row[0]].append(row)
    for partition_rows in by_partition.values():
        for start in range(0, len(partition_rows), size):
            batch = BatchStatement(batch_type=BatchType.UNLOGGED)
            for row in partition_rows[start : start + size]:
                batch.add(statement, row)
            yield batch


def duration_s(text: str) -> float:
    """Seconds of a Cassandra duration setting as ``system_views.settings`` shows it (``10000ms``).

    Raises:
        ValueError: Not a duration.

    """
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"not a Cassandra duration: {text!r}")
    return float(match.group(1)) * _SECONDS.get(match.group(2), 86400.0)


def commitlog_lag_block_s(session: Session) -> float:
    """The longest any node acknowledges a write whose commit log sync is not done (seconds).

    Read from each live node's ``system_views.settings``. ``batch`` and ``group`` sync before
    acknowledging (0). ``periodic`` acknowledges at once, but blocks writes while the last
    completed sync began more than ``periodic_commitlog_sync_lag_block`` ago (1.5 periods when
    unset): a write acknowledged that long after another proves the other is synced.
    """
    query = session.prepare("SELECT name, value FROM system_views.settings WHERE name IN ?")
    names = ["commitlog_sync", "commitlog_sync_period", "periodic_commitlog_sync_lag_block"]
    block = 0.0
    for host in session.cluster.metadata.all_hosts():
        if not host.is_up:
            continue
        values = {row.name: row.value for row in session.execute(query, (names,), host=host)}
        if values.get("commitlog_sync") != "periodic":
            continue
        explicit = values.get("periodic_commitlog_sync_lag_block")
        node_block = (
            duration_s(explicit)
            if explicit
            else SYNC_LAG_BLOCK_PERIODS * duration_s(values["commitlog_sync_period"])
        )
        block = max(block, node_block)
    return block


def drop_keyspace(session: Session, keyspace: str) -> None:
    """Drop a keyspace and everything in it, if it exists."""
    session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)


def rows_by_ids(
    session: Session, statement: PreparedStatement, ids: Sequence[int], concurrency: int = 16
) -> list[Any]:
    """Return the rows of a prepared ``WHERE key IN ?`` statement over ``ids``.

    :data:`ID_LOOKUP_CHUNK` ids a lookup, the lookups run concurrently; the first failure is
    raised.
    """
    chunks = [(list(ids[i : i + ID_LOOKUP_CHUNK]),) for i in range(0, len(ids), ID_LOOKUP_CHUNK)]
    rows: list[Any] = []
    for _, result in execute_concurrent_with_args(
        session, statement, chunks, concurrency=concurrency, raise_on_first_error=True
    ):
        rows.extend(result)
    return rows


class ReleaseIdLookup:
    """Which release ids have a row in ``releases``: prepared once, looked up by chunks.

    Args:
        session: An open driver session.
        keyspace: Keyspace holding ``releases``.
        concurrency: Chunk lookups in flight (:func:`rows_by_ids`).

    """

    def __init__(self, session: Session, keyspace: str, concurrency: int = 16) -> None:
        self._session = session
        self._statement = session.prepare(
            RELEASES.select(keyspace, ["release_id"], where=["release_id IN"])
        )
        self._concurrency = concurrency

    def existing(self, ids: Sequence[int]) -> set[int]:
        """The ids among ``ids`` that have a row."""
        rows = rows_by_ids(self._session, self._statement, ids, self._concurrency)
        return {row.release_id for row in rows}
