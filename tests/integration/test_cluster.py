"""The real local services: round trips, reuse of a running cluster, stop, and clear errors."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import Consumer, Producer
from pyspark.sql import SparkSession

from deployment import cluster
from deployment.processes import alive
from discorecs.core.cassandra import apply_schema, fill_name_words, session_scope
from discorecs.core.settings import Settings
from discorecs.core.tables import USERS

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def private_kafka_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Settings for a one-node Kafka of the test's own, in tmp_path, on free ports.

    One node whatever ``DISCORECS_NODES`` the suite runs with.
    """
    return {
        "DISCORECS_NODES": "1",
        "DISCORECS_CLUSTER_DIR": str(tmp_path / "cluster"),
        "DISCORECS_KAFKA_PORT": str(free_port()),
        "DISCORECS_KAFKA_CONTROLLER_PORT": str(free_port()),
        **overrides,
    }


def test_kafka_round_trip(topics: Settings) -> None:
    topic = topics.topic("users")
    producer = Producer({"bootstrap.servers": topics.kafka_bootstrap, "enable.idempotence": True})
    producer.produce(topic, key=b"42", value=b'{"hello": "kafka"}')
    assert producer.flush(30) == 0

    consumer = Consumer(
        {
            "bootstrap.servers": topics.kafka_bootstrap,
            "group.id": f"test-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + 30
        message = None
        while message is None and time.monotonic() < deadline:
            message = consumer.poll(1.0)
        assert message is not None and message.error() is None
        assert (message.key(), message.value()) == (b"42", b'{"hello": "kafka"}')
    finally:
        consumer.close()


def test_cassandra_prepared_round_trip(keyspace: Settings) -> None:
    with session_scope(keyspace) as session:
        version_query = session.prepare("SELECT release_version FROM system.local")
        version = session.execute(version_query).one().release_version
        assert version.startswith("5.0.")
        insert = session.prepare(USERS.insert(keyspace.keyspace, ["user_id", "name", "email"]))
        session.execute(insert, (7, "Ada", "ada@example.org"))
        select = session.prepare(
            USERS.select(keyspace.keyspace, ["name", "email"], where=["user_id"])
        )
        row = session.execute(select, (7,)).one()
    assert (row.name, row.email) == ("Ada", "ada@example.org")


def test_schema_apply_fills_the_words_of_profiles_from_before_the_column(
    keyspace: Settings,
) -> None:
    ks = keyspace.keyspace
    with session_scope(keyspace) as session:
        session.execute(f"DROP TABLE {ks}.users", timeout=60)
        earlier = ", ".join(f"{name} {cql}" for name, cql in USERS.columns[:-1])
        session.execute(f"CREATE TABLE {ks}.users ({earlier}, PRIMARY KEY (user_id))", timeout=60)
        profile = session.prepare(USERS.insert(ks, ["user_id", "name", "username"], timestamp=True))
        for values in [(1, "Ada Lovelace", "ada", 5), (2, None, "Solo", 6), (4, "B", "b", 5)]:
            session.execute(profile, values)
        session.execute(session.prepare(USERS.insert(ks, ["user_id", "email"])), (3, "x@y.org"))
        apply_schema(session, ks)
        assert fill_name_words(session, ks, page_size=2) == 3, "again, over two pages"
        words = session.prepare(USERS.insert(ks, ["user_id", "name_words"], timestamp=True))
        session.execute(words, (1, {"earlier"}, 4))  # an older profile event arriving late
        session.execute(words, (4, {"later"}, 7))  # a newer one
        read = session.prepare(USERS.select(ks, ["user_id", "name_words"]))
        filled = {row.user_id: row.name_words for row in session.execute(read)}
        search = session.prepare(USERS.select(ks, ["user_id"], where=["name_words CONTAINS"]))
        found = [row.user_id for row in session.execute(search, ("lovelace",))]
    assert filled == {1: {"ada", "lovelace"}, 2: {"solo"}, 3: None, 4: {"later"}}
    assert found == [1]


def test_up_on_running_cluster_starts_nothing(local_cluster: Settings, cli: RunCli) -> None:
    pids_before = {s.name: s.pid for s in cluster.status(local_cluster)}
    result = cli(None, "cluster", "up")
    assert result.returncode == 0, result.stderr
    assert {s.name: s.pid for s in cluster.status(local_cluster)} == pids_before


def test_second_cluster_up_reuse_down_status(tmp_path: Path, cli: RunCli) -> None:
    """A private Kafka on free ports: up, up again (same pid), down, status says stopped."""
    env = private_kafka_env(tmp_path, DISCORECS_KAFKA_HEAP="256m")
    first = cli(None, "cluster", "up", "kafka", **env)
    assert first.returncode == 0, first.stderr
    pid = (tmp_path / "cluster" / "pids" / "kafka.pid").read_text().strip()
    try:
        again = cli(None, "cluster", "up", "kafka", **env)
        assert again.returncode == 0, again.stderr
        assert (tmp_path / "cluster" / "pids" / "kafka.pid").read_text().strip() == pid
        assert "reuse" in again.stderr
    finally:
        down = cli(None, "cluster", "down", "kafka", **env)
    assert down.returncode == 0 and "kafka" in down.stdout
    status = cli(None, "cluster", "status", **env)
    kafka_line = next(line for line in status.stdout.splitlines() if line.startswith("kafka"))
    assert "stopped" in kafka_line
    assert not alive(int(pid))


def test_port_taken_is_a_clear_error(tmp_path: Path, cli: RunCli) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = private_kafka_env(tmp_path, DISCORECS_KAFKA_PORT=str(port))
        result = cli(None, "cluster", "up", "kafka", **env)
    assert result.returncode == 1
    assert f"port 127.0.0.1:{port} is taken" in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_java_is_a_clear_error(tmp_path: Path, cli: RunCli) -> None:
    java_home = tmp_path / "jdk21"
    (java_home / "bin").mkdir(parents=True)
    fake_java = java_home / "bin" / "java"
    fake_java.write_text("#!/bin/sh\necho 'openjdk version \"21.0.2\" 2024-01-16' >&2\n")
    fake_java.chmod(0o755)
    env = private_kafka_env(tmp_path, DISCORECS_JAVA_HOME=str(java_home))
    result = cli(None, "cluster", "up", "kafka", **env)
    assert result.returncode == 1
    assert "is Java 21, but Cassandra 5.0 needs Java 17" in result.stderr
    assert "Traceback" not in result.stderr


def test_version_set_kafka_to_spark_to_cassandra(
    pipeline: Settings, spark_keyspace: Settings, spark: SparkSession, cqlsh: Callable[[str], str]
) -> None:
    """pyspark reads a topic via spark-sql-kafka and writes via spark-cassandra-connector."""
    topic = pipeline.topic("users")
    producer = Producer({"bootstrap.servers": pipeline.kafka_bootstrap})
    for user_id in range(1, 6):
        producer.produce(topic, key=str(user_id).encode(), value=f"user-{user_id}".encode())
    assert producer.flush(30) == 0

    frame = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", pipeline.kafka_bootstrap)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .load()
        .selectExpr(
            "CAST(CAST(key AS STRING) AS BIGINT) AS user_id", "CAST(value AS STRING) AS name"
        )
    )
    (
        frame.write.format("org.apache.spark.sql.cassandra")
        .options(keyspace=pipeline.keyspace, table="users")
        .mode("append")
        .save()
    )
    output = cqlsh(f"SELECT user_id, name FROM {pipeline.keyspace}.users;")
    assert "(5 rows)" in output
    for user_id in range(1, 6):
        assert f"user-{user_id}" in output
