"""Kafka topics of the pipeline: created idempotently with the configured partition count."""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from discorecs.settings import TOPIC_NAMES, Settings

# Dead letters carry the original bytes plus the reason, keyed by their source coordinates:
# compaction drops the copy a replayed micro-batch may add; kept for 30 days.
_TOPIC_CONFIG = {
    "dead_letters": {"cleanup.policy": "compact,delete", "retention.ms": str(30 * 24 * 3600 * 1000)}
}


def apply_topics(settings: Settings, timeout: float = 30.0) -> list[str]:
    """Create the pipeline's topics that do not exist yet.

    Args:
        settings: Broker address, topic prefix and partition count.
        timeout: Seconds to wait for the broker.

    Returns:
        The names of the topics that were created (existing ones are left alone).

    """
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [
        NewTopic(
            settings.topic(name),
            num_partitions=settings.topic_partitions,
            replication_factor=1,
            config=_TOPIC_CONFIG.get(name, {}),
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


def delete_topics(
    settings: Settings, topics: list[str] | None = None, timeout: float = 30.0
) -> None:
    """Delete topics (default: all pipeline topics under the configured prefix)."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    names = topics if topics is not None else [settings.topic(name) for name in TOPIC_NAMES]
    if not names:
        return
    for future in admin.delete_topics(names, operation_timeout=timeout).values():
        try:
            future.result()
        except KafkaException as error:
            if error.args[0].name() != "UNKNOWN_TOPIC_OR_PART":
                raise
