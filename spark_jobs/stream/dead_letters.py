"""Dead letters, produced in the Python workers that hold the bad records.

A bad record goes to ``dead_letters`` with its bytes, its source coordinates and the
reason (an unknown release's reason formatted by
:func:`discorecs.core.events.unknown_release_reason`). The key is ``topic/partition/offset``,
unique per source record; the topic is compacted, so a replayed batch adds no second copy once
compaction runs, and readers deduplicate by key. The value is
:func:`~discorecs.core.events.dead_letter_value`: the record's bytes, empty for a record without
a value, cut for an oversize one (its full size then in the ``size`` header), which whole could
fail its batch on every replay when near Kafka's own message limit.

The records never travel to the driver: a batch of many large bad records (a producer gone
wrong) could not be collected there (Spark's result-size limit, the driver's memory), and it
would fail the same way on every replay. Each worker keeps one producer and flushes it before
its task ends, so a batch commits only what Kafka has.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from discorecs.core import events
from discorecs.core.settings import Settings
from discorecs.core.topics import produce_when_room, producer_config

FLUSH_S = 60.0
"""Seconds a task waits for Kafka to acknowledge its dead letters."""

_PRODUCERS: dict[str, Producer] = {}


def worker_producer(settings: Settings) -> Producer:
    """An idempotent producer cached per Python worker process (Spark reuses workers)."""
    if settings.kafka_bootstrap not in _PRODUCERS:
        config = producer_config(settings, **{"linger.ms": 5})
        _PRODUCERS[settings.kafka_bootstrap] = Producer(config)
    return _PRODUCERS[settings.kafka_bootstrap]


def send_partition(
    settings: Settings, rows: Iterable[Any], flush_s: float = FLUSH_S
) -> Iterator[int]:
    """``mapPartitions`` body: produce a partition's bad records, flush; yield how many.

    Args:
        settings: Broker and topic prefix.
        rows: Rows with ``topic``, ``partition``, ``offset``, ``value``, ``reason`` (None for a
            valid event of an unknown release) and ``release_id``.
        flush_s: Seconds to wait for Kafka's acknowledgements.

    Raises:
        KafkaException: Some were refused, or still unacknowledged after ``flush_s``. The
            worker's producer is then dropped, so the replayed task starts a fresh one (one
            left in a fatal state, such as a fatal idempotence error, would fail every later
            batch of that worker).

    """
    topic = settings.topic("dead_letters")
    producer = worker_producer(settings)
    failed: list[str] = []

    def on_delivery(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            failed.append(str(error))

    sent = 0
    for row in rows:
        value = events.dead_letter_value(row.value)
        headers = {
            "reason": row.reason or events.unknown_release_reason(row.release_id),
            "topic": row.topic,
            "partition": str(row.partition),
            "offset": str(row.offset),
        }
        if row.value is not None and len(row.value) > len(value):
            headers["size"] = str(len(row.value))
        produce_when_room(
            producer,
            topic,
            value,
            key=f"{row.topic}/{row.partition}/{row.offset}".encode(),
            headers=[(name, value.encode()) for name, value in headers.items()],
            on_delivery=on_delivery,
        )
        sent += 1
    unsent = producer.flush(flush_s)
    if unsent or failed:
        _PRODUCERS.pop(settings.kafka_bootstrap, None)
        raise KafkaException(f"{unsent + len(failed)} dead letters to {topic} not delivered")
    yield sent
