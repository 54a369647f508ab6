"""Session fixtures on the REAL local cluster: started once, reused if already running."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from deployment import cluster
from discorecs.app.loadtest import DISCORECS
from discorecs.core.cassandra import apply_schema, drop_keyspace, session_scope
from discorecs.core.settings import Settings, load_settings
from discorecs.core.topics import apply_topics, delete_topics
from tests.support import SAMPLE

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.integration

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def local_cluster(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """The running local cluster; started here (and stopped at the end) only if it was down."""
    settings = load_settings()
    running_before = {s.name for s in cluster.status(settings) if s.pid and s.healthy}
    cluster.up(settings)
    yield settings
    started_here = tuple(
        s.name for s in cluster.status(settings) if s.pid and s.name not in running_before
    )
    if started_here and not request.config.getoption("--keep-cluster"):
        cluster.down(settings, started_here)


def unique_name(prefix: str) -> str:
    """A short unique identifier usable as a keyspace or topic prefix."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def keyspace(local_cluster: Settings) -> Iterator[Settings]:
    """Settings pointing at a fresh keyspace with the schema applied; dropped afterwards."""
    settings = local_cluster.model_copy(update={"keyspace": unique_name("t")})
    with session_scope(settings) as session:
        apply_schema(session, settings.keyspace, replication_factor=settings.replication_factor)
    yield settings
    with session_scope(settings) as session:
        drop_keyspace(session, settings.keyspace)
    shutil.rmtree(settings.snapshot_path, ignore_errors=True)


def _with_topics(settings: Settings) -> Iterator[Settings]:
    apply_topics(settings)
    yield settings
    delete_topics(settings)


@pytest.fixture
def topics(local_cluster: Settings) -> Iterator[Settings]:
    """Settings with a unique topic prefix whose pipeline topics exist; deleted afterwards."""
    yield from _with_topics(
        local_cluster.model_copy(update={"topic_prefix": unique_name("t") + "."})
    )


@pytest.fixture
def pipeline(keyspace: Settings) -> Iterator[Settings]:
    """Settings with both a fresh keyspace and fresh topics (and a private checkpoint folder)."""
    yield from _with_topics(keyspace.model_copy(update={"topic_prefix": keyspace.keyspace + "."}))


@pytest.fixture
def cqlsh(local_cluster: Settings, tmp_path: Path) -> Callable[[str], str]:
    """Run a statement with this venv's cqlsh (the PyPI package) and return what it printed."""

    def run(statement: str) -> str:
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "cqlsh"),
                local_cluster.cassandra.host,
                str(local_cluster.cassandra.port),
                "-e",
                statement,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    return run


@pytest.fixture(scope="session")
def spark(local_cluster: Settings) -> Iterator[SparkSession]:
    """One local SparkSession with the connector jars, shared by the session's tests."""
    from spark_jobs.session import spark_session

    session = spark_session(local_cluster, "discorecs-tests")
    yield session
    session.stop()


@pytest.fixture
def spark_keyspace(keyspace: Settings, spark: SparkSession) -> Settings:
    """A fresh keyspace whose tables the shared Spark session's connector already sees.

    The connector's driver session learns about new tables from schema events, debounced by
    about a second; reading a table created a moment ago can otherwise fail with "Couldn't find
    table".
    """
    from pyspark.errors import AnalysisException

    deadline = time.monotonic() + 60
    for table in ("releases", "user_collection", "release_scores", "users_scored", "batch_runs"):
        while True:
            try:
                spark.read.format("org.apache.spark.sql.cassandra").options(
                    keyspace=keyspace.keyspace, table=table
                ).load()
                break
            except AnalysisException:
                assert time.monotonic() < deadline, f"Spark never saw {keyspace.keyspace}.{table}"
                time.sleep(0.5)
    return keyspace


@pytest.fixture(scope="session")
def cli() -> RunCli:
    """Run this venv's ``discorecs`` CLI as a child process, without stdin, capturing its output.

    Call it as ``cli(settings, *args, timeout=300, **env)``: the child sees ``settings`` (or the
    current environment when ``None``) plus the extra ``DISCORECS_*`` variables in ``env``.
    """

    def run(
        settings: Settings | None, *args: str, timeout: float = 300, **env: str
    ) -> subprocess.CompletedProcess[str]:
        base = settings.child_env() if settings is not None else dict(os.environ)
        return subprocess.run(
            [DISCORECS, *args],
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    return run


@pytest.fixture
def load_and_produce(cli: RunCli) -> Callable[[Settings, Path, int], None]:
    """Load the sample releases, then produce ``events`` events of 150 users with a truth file."""

    def run(settings: Settings, truth: Path, events: int) -> None:
        loaded = cli(settings, "parse", "releases", str(SAMPLE))
        assert loaded.returncode == 0, loaded.stderr
        produced = cli(
            settings,
            *("produce", "--users", "150", "--events", str(events), "--rate", "0"),
            *("--seed", "7", "--bad-ratio", "0.03", "--truth", str(truth)),
        )
        assert produced.returncode == 0, produced.stderr

    return run
