import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Message, TopicPartition

from discorecs.core import events
from discorecs.core.cassandra import session_scope
from discorecs.core.catalog import load_cassandra
from discorecs.core.genres import GENRES
from discorecs.core.settings import Settings
from discorecs.core.tables import RELEASES
from kafka_producers.demo_catalog import demo_catalog, demo_records
from kafka_producers.producer import produce_stream
from kafka_producers.synthetic import EventStream
from kafka_producers.truth import TruthWriter, read_truth

pytestmark = pytest.mark.integration


def end_offsets(settings: Settings) -> int:
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": "probe"})
    total = 0
    for kind in events.KINDS:
        topic = settings.topic(kind)
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            total += high - low
    consumer.close()
    return total


def consume_all(settings: Settings, expected: int, timeout: float = 90.0) -> list[tuple]:
    """Every message of the three event topics: (kind, partition, offset, key, value)."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    topics = {settings.topic(kind): kind for kind in events.KINDS}
    consumer.subscribe(list(topics))

    def row(msg: Message) -> tuple:
        return (topics[msg.topic() or ""], msg.partition(), msg.offset(), msg.key(), msg.value())

    got: list[tuple] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for msg in consumer.consume(10_000, timeout=1.0):
            assert msg.error() is None, msg.error()
            got.append(row(msg))
        if len(got) >= expected:
            # Linger a moment: anything beyond `expected` would be a duplicate.
            got += [row(msg) for msg in consumer.consume(10_000, timeout=2.0)]
            break
    consumer.close()
    return got


def check_against_truth(got: list[tuple], truth_path: Path) -> None:
    truth = read_truth(truth_path)
    sent = [(e["topic"], e["key"].encode(), e["value"].encode()) for e in truth.events]
    received = [(kind, key, value) for kind, _, _, key, value in got]
    assert len(received) == len(sent), "lost or duplicated messages"
    assert sorted(received) == sorted(sent), "the messages differ from the ground truth"

    # Per user and topic: one partition, and the truth's send order.
    sent_order: dict[tuple, list[bytes]] = defaultdict(list)
    for kind, key, value in sent:
        sent_order[(kind, key)].append(value)
    by_partition: dict[tuple, list[tuple]] = defaultdict(list)
    partitions: dict[tuple, set[int]] = defaultdict(set)
    for kind, partition, offset, key, value in got:
        by_partition[(kind, partition)].append((offset, key, value))
        partitions[(kind, key)].add(partition)
    assert all(len(p) == 1 for p in partitions.values()), "a user's events span partitions"
    received_order: dict[tuple, list[bytes]] = defaultdict(list)
    for (kind, _), rows in by_partition.items():
        for _, key, value in sorted(rows, key=lambda r: r[0]):
            received_order[(kind, key)].append(value)
    assert received_order == sent_order, "per-user order was not kept"


def test_produce_consume_matches_truth(topics: Settings, tmp_path: Path) -> None:
    catalog = demo_catalog(20_000, seed=4)
    stream = EventStream(catalog, n_users=500, seed=9, bad_ratio=0.02)
    truth_path = tmp_path / "truth.jsonl"
    writer = TruthWriter(truth_path)
    writer.write_header(
        stream, seed=9, bad_ratio=0.02, topics={k: topics.topic(k) for k in events.KINDS}
    )
    stats = produce_stream(stream, topics, rate=0, max_events=60_000, truth=writer)
    writer.close()
    assert stats.events == 60_000 and stats.failed == 0 and stats.bad > 0

    assert end_offsets(topics) == 60_000
    check_against_truth(consume_all(topics, 60_000), truth_path)


def write_catalog(path: Path) -> None:
    with open(path, "w") as handle:
        for record in demo_records(5_000, seed=2):
            handle.write(json.dumps(record._asdict()) + "\n")


def cli(settings: Settings, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DISCORECS_TOPIC_PREFIX": settings.topic_prefix}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "discorecs"), "produce", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_flushes_everything_on_sigterm(topics: Settings, tmp_path: Path) -> None:
    write_catalog(tmp_path / "catalog.jsonl")
    truth_path = tmp_path / "truth.jsonl"
    args = ["--users", "200", "--rate", "20000", "--seed", "3", "--bad-ratio", "0.01"]
    args += ["--catalog", str(tmp_path / "catalog.jsonl"), "--truth", str(truth_path)]
    process = cli(topics, *args)
    time.sleep(6)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    summary = dict(part.split("=") for part in out.strip().splitlines()[-1].split())
    assert summary["failed"] == "0" and summary["users"] == "200"
    sent = int(summary["events"])
    assert sent > 10_000
    assert len(read_truth(truth_path).events) == sent
    check_against_truth(consume_all(topics, sent), truth_path)


def test_catalog_from_cassandra(keyspace: Settings) -> None:
    rows = [(1, {"Rock"}, {"Punk"}), (2, {"Jazz", "Latin"}, None), (3, None, {"Noise"})]
    with session_scope(keyspace) as session:
        insert = session.prepare(
            RELEASES.insert(keyspace.keyspace, ["release_id", "genres", "styles"])
        )
        for row in rows:
            session.execute(insert, row)
    catalog = load_cassandra(keyspace, fetch_size=1)
    by_id = {int(r): i for i, r in enumerate(catalog.release_ids)}
    assert set(by_id) == {1, 2}  # release 3 has no genre
    genres, styles = catalog.genres, catalog.styles
    jazz_latin = genres.idx[genres.ptr[by_id[2]] : genres.ptr[by_id[2] + 1]]
    assert [GENRES[g] for g in jazz_latin] == ["Jazz", "Latin"]
    punk = styles.idx[styles.ptr[by_id[1]] : styles.ptr[by_id[1] + 1]]
    assert [styles.names[s] for s in punk] == ["Punk"]
