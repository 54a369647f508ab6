"""One way to open a Cassandra session, apply the CQL schema and look up release ids."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.resources import files
from importlib.resources.abc import Traversable

from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.policies import (
    ConstantReconnectionPolicy,
    DCAwareRoundRobinPolicy,
    TokenAwarePolicy,
)

from discorecs.core.settings import Settings
from discorecs.core.tables import RELEASES

SCHEMA = files("discorecs.core") / "schema"
"""The CQL files of ``schema/``, shipped inside the package (``discorecs/core/schema`` links
to them)."""
ID_LOOKUP_CHUNK = 100


def new_cluster(settings: Settings, *, connect_timeout: float = 10.0) -> Cluster:
    """A driver ``Cluster`` for the configured node (token-aware, protocol v5).

    A node that went away is retried every 2 s (the driver's default backs off to minutes,
    which would keep a restarted stream failing long after Cassandra is back).

    Args:
        settings: Where Cassandra listens.
        connect_timeout: Seconds to wait for a connection (also for the control connection).

    """
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy()),
        request_timeout=settings.cassandra.request_timeout_s,
    )
    return Cluster(
        [settings.cassandra.host],
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


def schema_statements(keyspace: str, schema_dir: Traversable = SCHEMA) -> list[str]:
    """The DDL statements of ``schema/*.cql`` in file order, for the given keyspace.

    Args:
        keyspace: Keyspace name substituted for ``{keyspace}``.
        schema_dir: Folder of ``.cql`` files.

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
                statements.append(chunk.strip().replace("{keyspace}", keyspace))
    return statements


def apply_schema(session: Session, keyspace: str) -> int:
    """Create the keyspace, tables and indexes if missing (idempotent).

    Args:
        session: An open driver session.
        keyspace: Keyspace to create the tables in.

    Returns:
        The number of statements run.

    """
    statements = schema_statements(keyspace)
    for statement in statements:
        session.execute(statement, timeout=60)
    return len(statements)


def drop_keyspace(session: Session, keyspace: str) -> None:
    """Drop a keyspace and everything in it, if it exists."""
    session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)


def existing_release_ids(
    session: Session, keyspace: str, ids: Sequence[int], concurrency: int = 16
) -> set[int]:
    """Return the ids among ``ids`` that have a row in ``releases``.

    Prepared ``WHERE release_id IN ?`` lookups of :data:`ID_LOOKUP_CHUNK` ids each, run
    concurrently; the first failure is raised.
    """
    lookup = session.prepare(RELEASES.select(keyspace, ["release_id"], where=["release_id IN"]))
    chunks = [(list(ids[i : i + ID_LOOKUP_CHUNK]),) for i in range(0, len(ids), ID_LOOKUP_CHUNK)]
    found: set[int] = set()
    for _, rows in execute_concurrent_with_args(
        session, lookup, chunks, concurrency=concurrency, raise_on_first_error=True
    ):
        found.update(row.release_id for row in rows)
    return found
