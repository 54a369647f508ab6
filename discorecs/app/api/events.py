"""Events in: built with the one event schema, validated like the stream does, produced to Kafka.

``POST /users/{id}/events`` takes ``{kind, release_id}``; ``add``/``remove`` become a
:class:`~discorecs.core.events.CollectionEvent` on the ``collections`` topic, ``view``/``play``/
``want`` an :class:`~discorecs.core.events.ActivityEvent` on ``activity``. The serialised JSON
goes through :func:`discorecs.core.events.validate`, the check the stream applies, before it is
produced by the idempotent producer (:func:`discorecs.core.topics.producer_config`), keyed by the
user id. The request is answered once Kafka acknowledged the event (``acks=all``).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from discorecs.core import events
from discorecs.core.events import (
    ACTIVITY_KINDS,
    COLLECTION_ACTIONS,
    ActivityEvent,
    CollectionEvent,
    Event,
    wire_time,
)
from discorecs.core.settings import Settings
from discorecs.core.topics import producer_config

EventKind = Literal["add", "remove", "view", "play", "want"]
"""What a client may post: the collection actions and activity kinds of the event schema."""
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
POLL_SECONDS = 0.1
UNKNOWN_OUTCOME = (
    "kafka did not acknowledge the event in time; it may still arrive, so a retried view, play "
    "or want may count twice (an add or remove may be retried safely)"
)


class InvalidEvent(ValueError):
    """The event failed :func:`discorecs.core.events.validate`; the message is the reason."""


class KafkaUnavailable(RuntimeError):
    """Kafka did not take the event in time (or refused it); the message says why."""


@dataclass(frozen=True)
class Outgoing:
    """A validated event ready to produce: its topic kind, id, wire bytes and event time."""

    topic_kind: str
    event_id: str
    value: bytes
    event_time: str = ""
    """In the wire format (:func:`wire_time`): what the stream stores, to the millisecond."""


def build_event(
    kind: str,
    user_id: int,
    release_id: int,
    *,
    now: datetime | None = None,
    event_id: str | None = None,
) -> Outgoing:
    """The validated wire bytes of one event and the topic they go to.

    Args:
        kind: One of :data:`EVENT_KINDS`.
        user_id: The user.
        release_id: The release.
        now: Event time (the current time by default).
        event_id: The event's id (a new uuid4 by default).

    Returns:
        The event for topic kind ``collections`` or ``activity``.

    Raises:
        InvalidEvent: Unknown kind, or a value the event schema rejects (e.g. an id out of
            range); the message is the schema's reason.

    """
    event_id = event_id or str(uuid.uuid4())
    event_time = wire_time(now or datetime.now(UTC))
    common = (events.SCHEMA_VERSION, event_id, event_time, user_id, release_id)
    event: Event
    if kind in COLLECTION_ACTIONS:
        topic, event = "collections", CollectionEvent(*common, action=kind)
    elif kind in ACTIVITY_KINDS:
        topic, event = "activity", ActivityEvent(*common, kind=kind)
    else:
        raise InvalidEvent(f"{events.BAD_VALUE}:kind")
    raw = events.to_json(event)
    _, reason = events.validate(topic, raw)
    if reason is not None:
        raise InvalidEvent(reason)
    return Outgoing(topic, event_id, raw, event_time)


class EventSender:
    """The process's idempotent producer; :meth:`send` returns once Kafka acknowledged.

    A background thread serves the producer's delivery callbacks, so concurrent requests each
    wait for their own event only.

    Args:
        settings: Broker, topic prefix, producer tuning and ``api.kafka_timeout_s``.

    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        timeout_ms = int(settings.api.kafka_timeout_s * 1000)
        self.producer = Producer(
            producer_config(
                settings,
                **{
                    "linger.ms": 5,
                    "delivery.report.only.error": False,
                    "message.timeout.ms": timeout_ms,
                    "socket.connection.setup.timeout.ms": min(timeout_ms, 30_000),
                },
            )
        )
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-poll", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.producer.poll(POLL_SECONDS)

    def send(self, event: Outgoing, key: int) -> None:
        """Produce one event, keyed by ``key`` (the user id), and wait for Kafka's ack.

        Raises:
            KafkaUnavailable: Not acknowledged within ``api.kafka_timeout_s``, or refused.

        """
        done = threading.Event()
        failure: list[str] = []

        def on_delivery(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                timed_out = error.code() == KafkaError._MSG_TIMED_OUT
                failure.append(
                    UNKNOWN_OUTCOME if timed_out else f"kafka did not take the event: {error.str()}"
                )
            done.set()

        try:
            self.producer.produce(
                self.settings.topic(event.topic_kind),
                key=str(key).encode(),
                value=event.value,
                on_delivery=on_delivery,
            )
        except (BufferError, KafkaException) as error:
            raise KafkaUnavailable(f"kafka refused the event: {error}") from error
        if not done.wait(self.settings.api.kafka_timeout_s + 5.0):
            raise KafkaUnavailable(UNKNOWN_OUTCOME)
        if failure:
            raise KafkaUnavailable(failure[0])

    def missing_topics(self, timeout: float) -> list[str]:
        """The event topics the broker does not have (metadata request; raises when down)."""
        metadata = self.producer.list_topics(timeout=timeout)
        wanted = [self.settings.topic(kind) for kind in events.KINDS]
        return [topic for topic in wanted if topic not in metadata.topics]

    def close(self) -> None:
        """Stop the poller and flush what is still queued."""
        self._stop.set()
        self._poller.join()
        self.producer.flush(self.settings.api.kafka_timeout_s)
