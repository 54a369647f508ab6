"""The three-node cluster (`cluster up --nodes 3`) and node faults under load.

Behind the ``multinode`` marker (``make test-multinode``, not in ``make test``): a cluster of
its own in ``.cluster/multinode`` on its own ports (Cassandra 19042/17000 and Kafka
19092/19093 on 127.0.0.1-3, Spark master 17077, UIs 18080-18082), small heaps, started here and
stopped at the end (``--keep-cluster`` leaves it running). Each fault kills one process with
``kill -9`` while the load runs (or while the hourly job runs) and starts it again later; the
pipeline must go on by itself and lose or double nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource

from deployment import cluster
from discorecs.app.loadtest import run_load
from discorecs.core.cassandra import apply_schema, drop_keyspace, session_scope
from discorecs.core.settings import Settings, load_settings
from discorecs.core.topics import DEAD_LETTERS, apply_topics, delete_topics

pytestmark = [pytest.mark.multinode, pytest.mark.timeout(3600)]

RATE, DURATION, USERS = 300, 90, 1000


@pytest.fixture(scope="module")
def three_nodes(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """A private three-node cluster, started once for the module."""
    base = load_settings()
    settings = base.with_updates(
        nodes=3,
        cluster_dir=base.cluster_path / "multinode",
        kafka={"port": 19092, "controller_port": 19093, "heap": "384m"},
        cassandra={"port": 19042, "storage_port": 17000, "heap": "768m"},
        spark={"master_port": 17077, "master_ui_port": 18080, "worker_ui_port": 18081},
    )
    cluster.up(settings)
    yield settings
    if not request.config.getoption("--keep-cluster"):
        cluster.down(settings)


def test_every_node_answers_and_the_data_is_replicated_three_times(
    three_nodes: Settings,
) -> None:
    statuses = cluster.status(three_nodes)
    assert [s.name for s in statuses] == cluster.service_names(three_nodes)
    assert all(s.healthy and s.pid for s in statuses), statuses
    name = f"rf_{uuid.uuid4().hex[:10]}"
    checked = three_nodes.model_copy(update={"keyspace": name, "topic_prefix": f"{name}."})
    with session_scope(checked) as session:
        try:
            apply_schema(session, checked.keyspace, replication_factor=checked.replication_factor)
            query = session.prepare(
                "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?"
            )
            replication = session.execute(query, (checked.keyspace,)).one().replication
            assert {h.address for h in session.cluster.metadata.all_hosts() if h.is_up} == {
                "127.0.0.1",
                "127.0.0.2",
                "127.0.0.3",
            }
        finally:
            drop_keyspace(session, checked.keyspace)
    assert replication["replication_factor"] == "3"
    apply_topics(checked)
    try:
        admin = AdminClient({"bootstrap.servers": checked.kafka_bootstrap})
        topic = checked.topic(DEAD_LETTERS)
        partitions = admin.list_topics(topic, timeout=30).topics[topic].partitions.values()
        assert all(len(p.replicas) == 3 for p in partitions)
        resource = ConfigResource("topic", topic)
        config = admin.describe_configs([resource])[resource].result()
        assert config["min.insync.replicas"].value == "2"
        assert config["cleanup.policy"].value == "compact,delete"
    finally:
        delete_topics(checked)


@pytest.mark.parametrize(
    "fault",
    ["kill-cassandra", "kill-kafka-leader", "kill-spark-worker", "kill-spark-worker-hourly"],
)
def test_a_node_fault_loses_and_doubles_nothing(three_nodes: Settings, fault: str) -> None:
    report = run_load(
        three_nodes, rate=RATE, duration=DURATION, users=USERS, fault=fault, echo=print
    )
    assert report.fault is not None
    assert report.produced > 0 and report.produce_failed == 0
    assert (report.lost, report.duplicated) == (0, 0), report.discrepancies
    assert report.fault.recovery_seconds is not None, "the pipeline did not go on by itself"
    print(f"FAULT {report.fault}")
    assert all(s.healthy for s in cluster.status(three_nodes)), "a node was not started again"
