"""The cluster's topology by node count, the configs it renders, Spark daemons and leftovers."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deployment import cluster
from deployment.processes import alive
from discorecs.core.settings import Settings

ONE_NODE = ["kafka", "cassandra"]
THREE_NODES = [
    "kafka-1",
    "kafka-2",
    "kafka-3",
    "spark-master",
    "cassandra-1",
    "spark-worker-1",
    "spark-worker-2",
    "cassandra-2",
    "cassandra-3",
]


def settings_for(tmp_path: Path, nodes: int, **changes: object) -> Settings:
    return Settings(
        cluster_dir=tmp_path / "cluster", jars_dir=tmp_path / "jars", nodes=nodes
    ).with_updates(**changes)


def properties(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def kafka_rendered(svc: cluster.KafkaService) -> dict[str, str]:
    """Render server.properties without formatting storage (the data folder looks formatted)."""
    (svc.home / "data").mkdir(parents=True)
    (svc.home / "data" / "meta.properties").write_text("")
    svc.prepare()
    return properties(svc.home / "server.properties")


def test_one_node_is_kafka_and_cassandra_as_before(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, 1)
    services = cluster.services(settings)
    assert [s.name for s in services] == ONE_NODE
    assert [(s.host, s.port, s.other_ports) for s in services] == [
        ("127.0.0.1", 9092, (9093,)),
        ("127.0.0.1", 9042, (7000,)),
    ]
    assert all(not s.after for s in services)


def test_status_of_named_services_probes_only_them(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, 3)
    assert [s.name for s in cluster.status(settings, ["cassandra-2"])] == ["cassandra-2"]
    assert len(cluster.status(settings)) == len(cluster.services(settings))


def test_three_nodes_each_on_its_own_loopback_address(tmp_path: Path) -> None:
    services = {s.name: s for s in cluster.services(settings_for(tmp_path, 3))}
    assert list(services) == THREE_NODES
    for i in (1, 2, 3):
        assert services[f"kafka-{i}"].host == f"127.0.0.{i}"
        assert services[f"cassandra-{i}"].host == f"127.0.0.{i}"
    assert services["cassandra-2"].after == ("cassandra-1",)
    assert services["cassandra-3"].after == ("cassandra-2",)
    assert services["spark-worker-2"].after == ("spark-master",)
    assert (services["spark-worker-1"].port, services["spark-worker-2"].port) == (8081, 8082)
    assert cluster.service_names(settings_for(tmp_path, 3)) == THREE_NODES


def test_one_kafka_node_renders_the_single_node_config(tmp_path: Path) -> None:
    config = kafka_rendered(cluster.KafkaService(settings_for(tmp_path, 1)))
    assert config["node.id"] == "1"
    assert config["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert config["offsets.topic.replication.factor"] == "1"
    assert config["transaction.state.log.min.isr"] == "1"
    assert config["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"


def test_a_kafka_node_of_three_votes_in_a_quorum_of_three(tmp_path: Path) -> None:
    config = kafka_rendered(cluster.KafkaService(settings_for(tmp_path, 3), 2))
    assert config["node.id"] == "2"
    assert config["controller.quorum.voters"] == (
        "1@127.0.0.1:9093,2@127.0.0.2:9093,3@127.0.0.3:9093"
    )
    assert config["advertised.listeners"] == "PLAINTEXT://127.0.0.2:9092"
    for key in ("offsets.topic", "transaction.state.log", "share.coordinator.state.topic"):
        assert config[f"{key}.replication.factor"] == "3"
    assert config["transaction.state.log.min.isr"] == "2"
    assert config["unclean.leader.election.enable"] == "false"


def test_every_broker_of_a_folder_shares_one_cluster_id(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, 3)
    ids = {cluster.KafkaService(settings, i)._cluster_id() for i in (1, 2, 3)}
    assert len(ids) == 1
    fixed = settings.with_updates(kafka={"cluster_id": "abc"})
    assert cluster.KafkaService(fixed, 3)._cluster_id() == "abc"


def test_cassandra_nodes_join_the_seed(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, 3, cassandra={"commitlog_sync_period_ms": 100})
    svc = cluster.CassandraService(settings, 3)
    svc.prepare()
    text = (svc.home / "cassandra.yaml").read_text()
    assert 'seeds: "127.0.0.1:7000"' in text
    assert "listen_address: 127.0.0.3" in text and "rpc_address: 127.0.0.3" in text
    assert "allocate_tokens_for_local_replication_factor: 3" in text
    assert "commitlog_sync_period: 100ms" in text
    (settings.jars_path / "cassandra").mkdir(parents=True)
    (settings.jars_path / "cassandra" / "jamm-0.4.0.jar").write_text("")
    assert "-Dcassandra.ring_delay_ms=5000" in svc.argv()
    assert "-Dcassandra.ring_delay_ms=100" in cluster.CassandraService(settings, 1).argv()


def test_compose_style_settings_name_the_nodes(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        3,
        kafka={"bootstrap_servers": "kafka-1:9092,kafka-2:9092,kafka-3:9092"},
        cassandra={"contact_points": "cassandra-1,cassandra-2,cassandra-3"},
    )
    services = {s.name: s for s in cluster.services(settings)}
    assert services["kafka-3"].host == "kafka-3"
    assert services["cassandra-2"].host == "cassandra-2"


def test_spark_daemons_come_from_pysparks_spark_class_on_loopback(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, 3, spark={"master_port": 17077, "master_ui_port": 18080})
    master = cluster.SparkMasterService(settings)
    worker = cluster.SparkWorkerService(settings, 2)
    spark_class = Path(master.argv()[0])
    assert spark_class.name == "spark-class" and os.access(spark_class, os.X_OK)
    assert master.argv()[1:] == [
        "org.apache.spark.deploy.master.Master",
        *("--host", "127.0.0.1", "--port", "17077", "--webui-port", "18080"),
    ]
    argv = worker.argv()
    assert argv[1:3] == ["org.apache.spark.deploy.worker.Worker", "spark://127.0.0.1:17077"]
    assert argv[argv.index("--cores") + 1] == "2" and argv[argv.index("--memory") + 1] == "1g"
    env = worker.environment()
    assert env["SPARK_LOCAL_IP"] == "127.0.0.1"
    assert env["SPARK_DAEMON_MEMORY"] == "256m"
    assert worker.marker in env["SPARK_DAEMON_JAVA_OPTS"]
    assert "-Dspark.worker.timeout=10" in env["SPARK_DAEMON_JAVA_OPTS"]


def test_a_worker_is_healthy_when_the_master_lists_it_alive(tmp_path: Path) -> None:
    worker = cluster.SparkWorkerService(settings_for(tmp_path, 3), 1)
    listed: dict[str, Any] = {
        "status": "ALIVE",
        "workers": [{"webuiaddress": "http://127.0.0.1:8081"}],
    }
    assert not worker.listed_alive(None)
    assert not worker.listed_alive(listed)
    listed["workers"][0]["state"] = "DEAD"
    assert not worker.listed_alive(listed)
    listed["workers"][0]["state"] = "ALIVE"
    assert worker.listed_alive(listed)
    listed["workers"][0]["webuiaddress"] = "http://127.0.0.1:8082"
    assert not worker.listed_alive(listed)


def started(argv: list[str]) -> subprocess.Popen[bytes]:
    """Start ``argv`` and wait until ``/proc`` shows its arguments.

    ``Popen`` returns once exec closes the close-on-exec pipe to the parent, which the kernel
    does before it sets the new image's arguments: ``/proc/<pid>/cmdline`` read right after it
    can still be empty (often, on a loaded box).
    """
    process = subprocess.Popen(argv)
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    until(lambda: argv[-1].encode() in cmdline.read_bytes())
    return process


def until(check: Callable[[], bool]) -> None:
    """Ask ``check`` every 10 ms until it is true, for 10 s at most."""
    for _ in range(1000):
        if check():
            return
        time.sleep(0.01)


def test_down_also_stops_leftovers_of_a_bigger_topology(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, 1)
    marker = f"-Ddiscorecs.service=kafka-3@{settings.cluster_path}"
    sleeper = started([sys.executable, "-c", "import time; time.sleep(120)", marker])
    try:
        pid_file = settings.cluster_path / "pids" / "kafka-3.pid"
        pid_file.parent.mkdir(parents=True)
        pid_file.write_text(f"{sleeper.pid}\n")
        assert cluster.down(settings) == ["kafka-3"]
        sleeper.wait(timeout=30)
        assert not alive(sleeper.pid) and not pid_file.exists()
    finally:
        sleeper.kill()


QUORUM_MEMBER = """
import os, signal, sys, time
me, other = sys.argv[1], sys.argv[2]
def leave(*_):
    open(me, "w").close()
    while not os.path.exists(other):
        time.sleep(0.05)
    sys.exit(0)
signal.signal(signal.SIGTERM, leave)
open(me + ".ready", "w").close()
time.sleep(120)
"""
"""A process that, asked to stop, waits until its peer was asked too (a broker of a quorum).

It says it is ready once its handler is in place: a SIGTERM before that would end it without
marking it asked, and its peer would wait for the mark to the end of the test's time.
"""


@pytest.mark.timeout(40, method="thread")
def test_leftovers_of_a_quorum_are_stopped_with_the_rest(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, 2)  # kafka-2 is one of its brokers, kafka-3 a leftover
    pids = settings.cluster_path / "pids"
    pids.mkdir(parents=True)
    names = ("kafka-2", "kafka-3")
    members = []
    try:
        for name, peer in zip(names, reversed(names), strict=True):
            marker = f"-Ddiscorecs.service={name}@{settings.cluster_path}"
            argv = [sys.executable, "-c", QUORUM_MEMBER, str(tmp_path / name), str(tmp_path / peer)]
            members.append(started([*argv, marker]))
            (pids / f"{name}.pid").write_text(f"{members[-1].pid}\n")
        until(lambda: all((tmp_path / f"{name}.ready").exists() for name in names))
        assert sorted(cluster.down(settings)) == list(names)
        assert [member.wait(timeout=30) for member in members] == [0, 0], "none was killed"
    finally:
        for member in members:
            member.kill()


def test_up_starts_a_service_after_the_ones_it_waits_for(tmp_path: Path) -> None:
    chosen = [
        svc
        for svc in cluster.services(settings_for(tmp_path, 3))
        if svc.name in ("cassandra-1", "cassandra-2", "spark-master", "spark-worker-1")
    ]
    steps = cluster.start_steps(chosen, {svc.name for svc in chosen})
    assert steps == [
        ("start", "spark-master"),
        ("start", "cassandra-1"),
        ("wait", "spark-master"),
        ("start", "spark-worker-1"),
        ("wait", "cassandra-1"),
        ("start", "cassandra-2"),
        ("wait", "spark-worker-1"),
        ("wait", "cassandra-2"),
    ]


def test_up_waits_for_a_running_service_before_starting_the_next(tmp_path: Path) -> None:
    chosen = [
        svc
        for svc in cluster.services(settings_for(tmp_path, 3))
        if svc.name in ("cassandra-1", "cassandra-2")
    ]
    assert cluster.start_steps(chosen, {"cassandra-2"}) == [
        ("wait", "cassandra-1"),
        ("start", "cassandra-2"),
        ("wait", "cassandra-2"),
    ]
