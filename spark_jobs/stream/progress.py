"""How far the stream has got: committed offsets from its checkpoint, lag against the broker."""

from __future__ import annotations

import json
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from discorecs.settings import Settings
from kafka_producers.events import KINDS

Offsets = dict[tuple[str, int], int]


def committed_offsets(checkpoint: Path) -> Offsets:
    """End offsets of the last micro-batch the query committed (read from its checkpoint).

    Spark writes ``offsets/<id>`` before running batch ``id`` and ``commits/<id>`` after it;
    the newest id present in both is what Cassandra holds.
    """
    commits = {int(p.name) for p in (checkpoint / "commits").glob("[0-9]*")}
    if not commits:
        return {}
    lines = (checkpoint / "offsets" / str(max(commits))).read_text().splitlines()
    offsets: Offsets = {}
    for line in lines[2:]:
        for topic, partitions in json.loads(line).items():
            for partition, offset in partitions.items():
                offsets[(topic, int(partition))] = offset
    return offsets


def end_offsets(settings: Settings, timeout: float = 10.0) -> Offsets:
    """The broker's log-end offset of every partition of the event topics."""
    consumer = Consumer(
        {"bootstrap.servers": settings.kafka_bootstrap, "group.id": "discorecs-lag"}
    )
    try:
        offsets: Offsets = {}
        for kind in KINDS:
            topic = settings.topic(kind)
            metadata = consumer.list_topics(topic, timeout=timeout).topics[topic]
            for partition in metadata.partitions:
                _, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=timeout
                )
                offsets[(topic, partition)] = high
        return offsets
    finally:
        consumer.close()


def lag(committed: Offsets, ends: Offsets) -> int:
    """Records on the broker that the stream has not committed yet."""
    return sum(max(0, end - committed.get(key, 0)) for key, end in ends.items())
