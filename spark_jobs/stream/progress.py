"""How far the stream has got: committed offsets from its checkpoint, lag against the broker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from discorecs.core.events import KINDS
from discorecs.core.settings import Settings

Offsets = dict[tuple[str, int], int]

QUERY_NAME = "events"

STUCK_EXIT_CODE = 75
"""Exit status of a stream that ended itself on a hung micro-batch (``EX_TEMPFAIL``): start it
again, it resumes from its checkpoint."""


def checkpoint_dir(settings: Settings) -> Path:
    """The streaming query's checkpoint folder."""
    return settings.checkpoint_path / QUERY_NAME


def metrics_path(settings: Settings) -> Path:
    """JSONL file where each micro-batch's stats are appended (read by status and loadtest)."""
    return settings.cluster_path / "metrics" / f"stream-{settings.keyspace}.jsonl"


class MetricsLog:
    """The micro-batches logged in one metrics file, read incrementally.

    Each :meth:`read` parses only the whole lines appended since the last one, so a process
    that keeps the log (the API) pays for what the stream wrote since, not for its whole
    history; a file replaced or truncated is read again from its start.

    Args:
        path: A stream's JSONL metrics file (:func:`metrics_path`).

    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._read_bytes = 0
        self._inode: int | None = None
        self._batches: dict[int, dict[str, Any]] = {}
        self._ordered: list[dict[str, Any]] = []

    def read(self) -> list[dict[str, Any]]:
        """The logged micro-batches by ``batch_id``, one each (a replayed batch's last line wins).

        A line still being written (no line feed yet) is left for the next read.
        """
        try:
            stat = self.path.stat()
            size, inode = stat.st_size, stat.st_ino
        except FileNotFoundError:
            size, inode = 0, None
        if size < self._read_bytes or inode != self._inode:
            self._read_bytes, self._batches, self._ordered = 0, {}, []
            self._inode = inode
        if size == self._read_bytes:
            return self._ordered
        with self.path.open("rb") as log:
            log.seek(self._read_bytes)
            data = log.read(size - self._read_bytes)
        whole = data.rfind(b"\n") + 1
        for line in data[:whole].splitlines():
            try:
                batch = json.loads(line)
            except json.JSONDecodeError:
                continue
            self._batches[batch["batch_id"]] = batch
        self._read_bytes += whole
        self._ordered = [self._batches[batch_id] for batch_id in sorted(self._batches)]
        return self._ordered


def read_metrics(settings: Settings) -> list[dict[str, Any]]:
    """The logged micro-batches of the settings' stream, one per ``batch_id``, read once."""
    return MetricsLog(metrics_path(settings)).read()


def committed_batch(checkpoint: Path) -> int | None:
    """The id of the last micro-batch the query committed, or ``None`` before the first.

    Spark writes ``offsets/<id>`` before running batch ``id`` and ``commits/<id>`` after it.
    """
    return max((int(p.name) for p in (checkpoint / "commits").glob("[0-9]*")), default=None)


def committed_offsets(checkpoint: Path) -> Offsets:
    """End offsets of the last micro-batch the query committed: what Cassandra holds."""
    batch = committed_batch(checkpoint)
    if batch is None:
        return {}
    lines = (checkpoint / "offsets" / str(batch)).read_text().splitlines()
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
