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


METRICS_MAX_BYTES = 64 * 1024 * 1024
"""A metrics file this large is moved aside before the next line (a few days of batches)."""


def metrics_path(settings: Settings) -> Path:
    """JSONL file where each micro-batch's stats are appended (read by status and loadtest)."""
    return settings.cluster_path / "metrics" / f"stream-{settings.keyspace}.jsonl"


def append_metrics(path: Path, line: str, max_bytes: int = METRICS_MAX_BYTES) -> None:
    """Append one batch's JSON line; a file past ``max_bytes`` first becomes ``<name>.1``.

    The file then starts afresh (one older file kept, the one before it dropped), so it never
    grows without bound; its readers (:class:`MetricsLog`) start again from the new file.
    """
    if path.exists() and path.stat().st_size >= max_bytes:
        path.replace(path.with_name(path.name + ".1"))
    with path.open("a") as handle:
        handle.write(line + "\n")


class MetricsLog:
    """The micro-batches logged in one metrics file, read incrementally, the newest kept.

    Each :meth:`read` parses only the whole lines appended since the last one, so a process
    that keeps the log (the API) pays for what the stream wrote since, not for its whole
    history; a file replaced or truncated is read again from its start. With ``keep``, only the
    newest ``keep`` batches stay in memory, and :attr:`total` and :attr:`dead_letters` count
    every batch read.

    Args:
        path: A stream's JSONL metrics file (:func:`metrics_path`).
        keep: Batches kept (None: all).

    """

    def __init__(self, path: Path, keep: int | None = None) -> None:
        self.path = path
        self.keep = keep
        self._read_bytes = 0
        self._inode: int | None = None
        self._batches: dict[int, dict[str, Any]] = {}
        self._dropped = 0
        self._dropped_dead_letters = 0

    @property
    def total(self) -> int:
        """Batches read from the file, those no longer kept included."""
        return self._dropped + len(self._batches)

    @property
    def dead_letters(self) -> int:
        """Dead letters of every batch read from the file."""
        kept = sum(batch["dead_letters"] for batch in self._batches.values())
        return self._dropped_dead_letters + kept

    def read(self) -> list[dict[str, Any]]:
        """The kept micro-batches in the order logged, one per ``batch_id`` (its last line).

        A replayed batch's line replaces the earlier one; file order rather than ``batch_id``
        keeps a stream whose checkpoint was reset (ids from 0 again) newest last. A line still
        being written (no line feed yet) is left for the next read.
        """
        try:
            stat = self.path.stat()
            size, inode = stat.st_size, stat.st_ino
        except FileNotFoundError:
            size, inode = 0, None
        if size < self._read_bytes or inode != self._inode:
            self._read_bytes, self._batches = 0, {}
            self._dropped = self._dropped_dead_letters = 0
            self._inode = inode
        if size > self._read_bytes:
            with self.path.open("rb") as log:
                log.seek(self._read_bytes)
                data = log.read(size - self._read_bytes)
            whole = data.rfind(b"\n") + 1
            for line in data[:whole].splitlines():
                try:
                    batch = json.loads(line)
                except json.JSONDecodeError:
                    continue
                self._batches.pop(batch["batch_id"], None)
                self._batches[batch["batch_id"]] = batch
                self._trim()
            self._read_bytes += whole
        return list(self._batches.values())

    def _trim(self) -> None:
        while self.keep is not None and len(self._batches) > self.keep:
            oldest = next(iter(self._batches))
            self._dropped_dead_letters += self._batches.pop(oldest)["dead_letters"]
            self._dropped += 1


def read_metrics(settings: Settings) -> list[dict[str, Any]]:
    """The logged micro-batches of the settings' stream, one per ``batch_id``, read once whole."""
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
