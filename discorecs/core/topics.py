"""Kafka topics of the pipeline (one per event kind plus the dead letters) and the producer config.

Every producer in the project (the synthetic events, the dead letters, the API's events) uses
:func:`producer_config`: idempotent, ``acks=all``, batched and compressed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from discorecs.core.events import KINDS

if TYPE_CHECKING:
    from discorecs.core.settings import Settings

DEAD_LETTERS = "dead_letters"
TOPIC_NAMES: tuple[str, ...] = (*KINDS, DEAD_LETTERS)
"""Unprefixed topic names: the event kinds, then the dead letters."""

DEAD_LETTER_CONFIG = {
    "cleanup.policy": "compact,delete",
    "retention.ms": str(30 * 24 * 3600 * 1000),
}
"""Dead letters carry the original bytes plus the reason, keyed by their source coordinates:
compaction drops the copy a replayed micro-batch may add; kept for 30 days."""


def min_insync_replicas(replication_factor: int) -> int:
    """Replicas that must have a record before ``acks=all`` succeeds: one fewer than all.

    With three copies a record is on two brokers before it is acknowledged, and one broker may
    be down without stopping the producers; with one copy it is that one.
    """
    return max(1, replication_factor - 1)


def topic_config(settings: Settings, name: str) -> dict[str, str]:
    """The topic-level configuration of one pipeline topic (by unprefixed name)."""
    config = dict(DEAD_LETTER_CONFIG) if name == DEAD_LETTERS else {}
    if settings.replication_factor > 1:
        config["min.insync.replicas"] = str(min_insync_replicas(settings.replication_factor))
    return config


def apply_topics(settings: Settings, timeout: float = 30.0) -> list[str]:
    """Create the pipeline's topics that do not exist yet.

    Each has ``settings.kafka.partitions`` partitions, ``min(3, nodes)`` replicas and, with
    more than one, ``min.insync.replicas`` one fewer (:func:`topic_config`).

    Args:
        settings: Broker addresses, topic prefix, partition and node counts.
        timeout: Seconds to wait for the brokers.

    Returns:
        The names of the topics that were created (existing ones are left alone).

    """
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [
        NewTopic(
            settings.topic(name),
            num_partitions=settings.kafka.partitions,
            replication_factor=settings.replication_factor,
            config=topic_config(settings, name),
        )
        for name in TOPIC_NAMES
        if settings.topic(name) not in existing
    ]
    if not wanted:
        return []
    created = []
    for topic, future in admin.create_topics(wanted, operation_timeout=timeout).items():
        try:
            future.result()
            created.append(topic)
        except KafkaException as error:
            if error.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
    return created


def delete_topics(settings: Settings, timeout: float = 30.0) -> None:
    """Delete the pipeline topics under the configured prefix (missing ones are fine)."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    names = [settings.topic(name) for name in TOPIC_NAMES]
    for future in admin.delete_topics(names, operation_timeout=timeout).values():
        try:
            future.result()
        except KafkaException as error:
            if error.args[0].name() != "UNKNOWN_TOPIC_OR_PART":
                raise


def producer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """Return the confluent-kafka producer configuration used for every pipeline topic.

    Args:
        settings: Where the broker listens and the producer's batching settings.
        **overrides: librdkafka keys to replace (pass dotted keys as
            ``**{"linger.ms": 5}``).

    Returns:
        The configuration dict.

    """
    tuning = settings.producer
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": tuning.linger_ms,
        "batch.size": tuning.batch_bytes,
        "batch.num.messages": tuning.batch_messages,
        "compression.type": tuning.compression,
        "queue.buffering.max.messages": tuning.queue_messages,
        "delivery.report.only.error": True,
    }
    config.update(overrides)
    return config


def produce_when_room(
    producer: Producer,
    topic: str,
    value: bytes,
    give_up: Callable[[], bool] | None = None,
    **kwargs: Any,
) -> bool:
    """``producer.produce``, serving delivery reports while its local queue is full.

    Args:
        producer: The producer.
        topic: The topic.
        value: The message value.
        give_up: Asked between waits for room; when it answers True the message is not
            handed over (a stop requested while the broker is away and the queue full).
        **kwargs: More arguments of ``produce`` (``key``, ``headers``, ``on_delivery``).

    Returns:
        Whether the message was handed to the producer.

    """
    while True:
        try:
            producer.produce(topic, value, **kwargs)
            return True
        except BufferError:
            if give_up is not None and give_up():
                return False
            producer.poll(0.05)
