"""Send an :class:`EventStream` into Kafka at a set rate, losing nothing on exit or on a signal.

The confluent-kafka producer is idempotent (``enable.idempotence``, ``acks=all``), batches
(``linger.ms``, ``batch.size``, ``batch.num.messages``) and compresses with lz4. The key is the
user id, so the default murmur2 partitioner keeps each user's events in one partition, in order.
Only failed deliveries trigger a callback (``delivery.report.only.error``), which keeps the hot
loop free of per-message Python callbacks. SIGINT/SIGTERM stop the loop after the current chunk;
everything handed to the producer is then flushed.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from discorecs.core import events
from discorecs.core.logs import get_logger
from discorecs.core.settings import Settings
from discorecs.core.topics import producer_config
from kafka_producers.synthetic import EventStream
from kafka_producers.truth import TruthWriter

log = get_logger("producers.producer")

MAX_CHUNK = 2000
"""Largest number of events generated and handed to the producer at once."""
CHUNK_SECONDS = 0.05
"""With a rate limit, a chunk holds about this many seconds of events."""


class TokenBucket:
    """Events/s rate control: ``delay(n)`` says how long to wait before sending ``n`` events."""

    def __init__(
        self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Start full.

        Args:
            rate: Tokens (events) added per second.
            capacity: Largest burst, at least the biggest ``n`` asked for.
            clock: Seconds on a monotonic clock.

        """
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._stamp = clock()

    def delay(self, n: int) -> float:
        """Take ``n`` tokens if there are enough and return 0, else return the seconds to wait."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= n:
            self._tokens -= n
            return 0.0
        return (n - self._tokens) / self.rate


@dataclass
class ProduceStats:
    """What one producer run sent.

    Attributes:
        events: Messages handed to the producer.
        users: Users in the population.
        seconds: Wall time from the first chunk to the end of the final flush.
        failed: Messages whose delivery failed or that were still queued after the flush timeout.
        bad: Malformed messages among ``events``.

    """

    events: int
    users: int
    seconds: float
    failed: int
    bad: int

    @property
    def rate(self) -> float:
        """Return events per second over the run."""
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """Return the one-line summary printed at the end of a run."""
        return (
            f"events={self.events} users={self.users} seconds={self.seconds:.2f} "
            f"rate={self.rate:.0f}/s failed={self.failed}"
        )


class _Stop:
    def __init__(self) -> None:
        self.requested = False
        self.signal = 0

    def __call__(self, signum: int, _frame: Any) -> None:
        self.requested = True
        self.signal = signum


@contextmanager
def _signals_stop(stop: _Stop) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def chunk_size_for(rate: float) -> int:
    """Return the chunk size used at a given rate (``0`` = unlimited)."""
    if rate <= 0:
        return MAX_CHUNK
    return max(1, min(MAX_CHUNK, int(rate * CHUNK_SECONDS)))


def produce_stream(
    stream: EventStream,
    settings: Settings,
    *,
    rate: float = 0.0,
    duration: float | None = None,
    max_events: int | None = None,
    truth: TruthWriter | None = None,
    flush_timeout: float = 120.0,
    config: dict[str, Any] | None = None,
) -> ProduceStats:
    """Send a stream's events until the duration, the event count or a signal says stop.

    Args:
        stream: The events to send.
        settings: Broker address and topic prefix.
        rate: Events per second; ``0`` sends as fast as possible.
        duration: Stop after this many seconds (``None``: no limit).
        max_events: Stop after this many events (``None``: no limit).
        truth: Ground-truth writer receiving every chunk handed to the producer.
        flush_timeout: Seconds the final flush may take; what is still queued then counts
            as failed.
        config: Producer configuration (default :func:`producer_config`).

    Returns:
        The run's counts.

    """
    topics = [settings.topic(kind) for kind in events.KINDS]
    failures = {"count": 0}

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            failures["count"] += 1
            if failures["count"] <= 10:
                log.error("delivery_failed", topic=msg.topic(), error=str(err))

    producer = Producer({**(config or producer_config(settings)), "on_delivery": on_delivery})
    chunk_size = chunk_size_for(rate)
    bucket = TokenBucket(rate, chunk_size) if rate > 0 else None
    span_ms = 1000.0 * chunk_size / rate if rate > 0 else 0.0
    stop = _Stop()
    sent = bad = 0
    log.info(
        "produce_start",
        bootstrap=settings.kafka_bootstrap,
        users=stream.n_users,
        rate=rate,
        duration=duration,
        max_events=max_events,
        chunk=chunk_size,
    )
    start = time.monotonic()
    with _signals_stop(stop):
        try:
            while not stop.requested:
                n = chunk_size if max_events is None else min(chunk_size, max_events - sent)
                if n <= 0 or (duration is not None and time.monotonic() - start >= duration):
                    break
                if bucket is not None:
                    while (wait := bucket.delay(n)) > 0 and not stop.requested:
                        producer.poll(min(wait, 0.1))
                    if stop.requested:
                        break
                chunk = stream.next_chunk(n, time.time_ns() // 1_000_000, span_ms)
                send_chunk(producer, [topics[t] for t in chunk.topics], chunk.keys, chunk.values)
                producer.poll(0)
                sent += len(chunk)
                bad += len(chunk.bad)
                if truth is not None:
                    truth.write_chunk(chunk)
            if stop.requested:
                log.info("produce_signal", signal=stop.signal, sent=sent)
        finally:
            remaining = producer.flush(flush_timeout)
    seconds = time.monotonic() - start
    stats = ProduceStats(sent, stream.n_users, seconds, failures["count"] + remaining, bad)
    log.info(
        "produce_done",
        events=stats.events,
        seconds=stats.seconds,
        rate=stats.rate,
        failed=stats.failed,
        bad=stats.bad,
        unflushed=remaining,
    )
    return stats


def send_chunk(producer: Producer, topics: list[str], keys: list[bytes], values: list) -> None:
    """Hand messages to the producer in order, polling to make room when its queue is full.

    Args:
        producer: The confluent-kafka producer.
        topics: Topic of each message.
        keys: Key of each message.
        values: Value of each message.

    """
    produce = producer.produce
    for topic, value, key in zip(topics, values, keys, strict=True):
        try:
            produce(topic, value, key)
        except BufferError:
            _produce_when_room(producer, topic, value, key)


def _produce_when_room(producer: Producer, topic: str, value: bytes, key: bytes) -> None:
    while True:
        producer.poll(0.05)
        try:
            producer.produce(topic, value, key)
            return
        except BufferError:
            continue
