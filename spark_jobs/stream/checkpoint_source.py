"""The Kafka topics a stream checkpoint was read from, so it never resumes on other topics.

A checkpoint's offsets mean something only for the topics they were read from. Topics made
anew (a new cluster folder, a 3-node cluster beside the 1-node one in the same folder, a topic
deleted and created again) or other topics (another topic prefix with an explicit
``checkpoint_dir``) have other offsets: Spark then fails every batch (``failOnDataLoss``) or
skips records silently. So a run on a checkpoint that holds no offsets yet writes each event
topic's Kafka topic id beside it (``events.source.json``), and a later run whose topics have
other ids while the checkpoint holds offsets is refused with one line naming both. A
checkpoint written before this file existed is adopted as it is.
"""

from __future__ import annotations

import json
from pathlib import Path

from confluent_kafka import KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient

from discorecs.core.events import KINDS
from discorecs.core.files import write_atomically
from discorecs.core.logs import get_logger
from discorecs.core.settings import Settings
from spark_jobs.stream.progress import QUERY_NAME, checkpoint_dir

log = get_logger("stream")


def source_path(settings: Settings) -> Path:
    """Where the checkpoint's topic ids are kept (beside the checkpoint and its lock)."""
    return settings.checkpoint_path / f"{QUERY_NAME}.source.json"


def topic_ids(settings: Settings, timeout: float = 10.0) -> dict[str, str]:
    """The Kafka topic id of each event topic, by topic name.

    Raises:
        KafkaException: Kafka did not answer, or a topic does not exist.

    """
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    names = [settings.topic(kind) for kind in KINDS]
    futures = admin.describe_topics(TopicCollection(names), request_timeout=timeout)
    return {name: str(future.result().topic_id) for name, future in futures.items()}


def foreign_checkpoint(recorded: dict[str, str], current: dict[str, str]) -> str | None:
    """Why a checkpoint read from the ``recorded`` topics cannot resume on ``current``, if so.

    Args:
        recorded: Topic ids by name, as the checkpoint's first run saw them.
        current: Topic ids by name now.

    Returns:
        None when they are the same topics, else one line naming the difference.

    """
    if recorded == current:
        return None
    changed = sorted(set(recorded) ^ set(current)) or sorted(
        name for name in current if recorded[name] != current[name]
    )
    return f"its topics were {sorted(recorded)}; the stream's differ in {changed}"


def check_source(settings: Settings) -> str | None:
    """Compare the checkpoint's topics with the stream's; record them while it holds no offsets.

    Returns:
        One line saying why the checkpoint must not be used, or None when it may (also when
        Kafka cannot tell now: the query's own retries wait for it, and the next start checks).

    """
    try:
        current = topic_ids(settings)
    except KafkaException as error:
        log.warning("checkpoint_source_unchecked", error=str(error).splitlines()[0][:200])
        return None
    path = source_path(settings)
    if not path.exists() or not any((checkpoint_dir(settings) / "offsets").glob("[0-9]*")):
        write_atomically(path, json.dumps(current, sort_keys=True).encode())
        return None
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        return f"the checkpoint's {path} cannot be read ({error})"
    why = foreign_checkpoint(recorded, current)
    if why is None:
        return None
    return (
        f"the checkpoint {settings.checkpoint_path} was written from other Kafka topics ({why}): "
        "delete it, or set DISCORECS_CHECKPOINT_DIR"
    )
