"""The ground-truth file: hidden tastes and every event sent, in send order, as JSONL.

Lines, each a JSON object with a ``type``:

- ``meta``: ``seed``, ``users``, ``releases``, ``bad_ratio``, ``schema_version``,
  ``max_event_bytes``, ``topics`` (the full topic name of each event kind).
- ``taste``: ``user_id``, ``genres`` (genre -> weight) and ``atoms`` ("Genre" or "Genre/Style" ->
  weight), one line per user.
- ``event``: ``seq`` (send order from 0), ``topic`` (event kind), ``key``, ``value`` (the message
  value as text) and ``bad`` (``null``, or the reason category of a malformed event).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from discorecs.core import events
from kafka_producers.synthetic import Chunk, EventStream

_EVENT_LINE = '{"type":"event","seq":%d,"topic":"%s","key":%s,"bad":%s,"value":%s}'
_quote = json.encoder.encode_basestring  # the C string escaper behind json.dumps


class TruthWriter:
    """Appends the ground truth of one producer run to a JSONL file."""

    def __init__(self, path: str | Path):
        """Open (truncate) the file.

        Args:
            path: Output path.

        """
        self._handle: TextIO = open(path, "w", encoding="utf-8")  # noqa: SIM115
        self._seq = 0

    def write_header(
        self, stream: EventStream, *, seed: int, bad_ratio: float, topics: dict[str, str]
    ) -> None:
        """Write the ``meta`` line and one ``taste`` line per user.

        Args:
            stream: The event stream about to be sent.
            seed: Its seed.
            bad_ratio: Share of malformed events.
            topics: Event kind -> full topic name.

        """
        meta = {
            "type": "meta",
            "seed": seed,
            "users": stream.n_users,
            "first_user_id": stream.user_ids[0],
            "releases": len(stream.catalog),
            "bad_ratio": bad_ratio,
            "schema_version": events.SCHEMA_VERSION,
            "max_event_bytes": events.MAX_EVENT_BYTES,
            "topics": topics,
        }
        self._handle.write(json.dumps(meta) + "\n")
        for row, user_id in enumerate(stream.user_ids):
            taste = {
                "type": "taste",
                "user_id": user_id,
                **stream.tastes.describe(row, stream.sampler),
            }
            self._handle.write(json.dumps(taste) + "\n")

    def write_chunk(self, chunk: Chunk) -> None:
        """Write one ``event`` line per message of a chunk that was handed to the producer."""
        kinds, bad, seq = events.KINDS, chunk.bad, self._seq
        lines = [
            _EVENT_LINE
            % (
                seq + i,
                kinds[topic],
                _quote(key.decode()),
                _quote(bad[i]) if i in bad else "null",
                _quote(value.decode()),
            )
            for i, (topic, key, value) in enumerate(
                zip(chunk.topics, chunk.keys, chunk.values, strict=True)
            )
        ]
        self._seq += len(chunk)
        if lines:
            self._handle.write("\n".join(lines) + "\n")

    def close(self) -> None:
        """Flush and close the file."""
        self._handle.close()


@dataclass
class Truth:
    """A ground-truth file, read back.

    Attributes:
        meta: The ``meta`` line.
        tastes: ``user_id`` -> its ``taste`` line.
        events: The ``event`` lines, in send order.

    """

    meta: dict[str, Any]
    tastes: dict[int, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)


def read_truth(path: str | Path) -> Truth:
    """Read a ground-truth file.

    Args:
        path: The JSONL file written by :class:`TruthWriter`.

    Returns:
        Its contents.

    """
    truth = Truth(meta={})
    for record in truth_records(path):
        kind = record["type"]
        if kind == "meta":
            truth.meta = record
        elif kind == "taste":
            truth.tastes[record["user_id"]] = record
        else:
            truth.events.append(record)
    return truth


def truth_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """The lines of a ground-truth file one at a time, in file order.

    A long load test's file holds millions of events (~1 KB each once parsed), so a reader
    that only folds them (:func:`discorecs.app.verify.expected_state`) reads them this way
    rather than through :func:`read_truth`.
    """
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)
