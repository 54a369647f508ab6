"""Send an :class:`EventStream` into Kafka at a set rate, losing nothing on exit or on a signal.

The confluent-kafka producer is idempotent (``enable.idempotence``, ``acks=all``), batches
(``linger.ms``, ``batch.size``, ``batch.num.messages``) and compresses with lz4. The key is the
user id, which librdkafka's default partitioner hashes (CRC32), so each user's events stay in one
partition, in order.
Only failed deliveries trigger a callback (``delivery.report.only.error``), which keeps the hot
loop free of per-message Python callbacks. The events are drawn at the rate by a
:class:`~kafka_producers.generator_process.GeneratorProcess` on another core; this process only
hands them to Kafka (and to the truth file). SIGINT/SIGTERM stop the loop after the current chunk,
or within it while the producer's queue is full (the broker away): the truth then holds the
messages handed over so far, and everything handed over is flushed.
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
from discorecs.core.topics import produce_when_room, producer_config
from kafka_producers.generator_process import GeneratorProcess
from kafka_producers.synthetic import EventStream
from kafka_producers.truth import TruthWriter

log = get_logger("producers.producer")


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


STOP_FLUSH_S = 30.0
"""The most a flush may take after SIGINT/SIGTERM (what is still queued then counts as failed):
within the 60 s a supervisor such as compose grants before SIGKILL, which would lose the
truth file's last lines and the run's summary."""


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
        stream: The events to send, drawn by a child process from its own copy (this object
            only encodes them, so its draw state does not advance).
        settings: Broker address and topic prefix.
        rate: Events per second; ``0`` sends as fast as possible.
        duration: Stop after this many seconds (``None``: no limit).
        max_events: Stop after this many events (``None``: no limit).
        truth: Ground-truth writer receiving every chunk handed to the producer.
        flush_timeout: Seconds the final flush may take (at most :data:`STOP_FLUSH_S` after
            a signal); what is still queued then counts as failed.
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

    stop = _Stop()
    sent = bad = 0
    with GeneratorProcess(stream, rate=rate, max_events=max_events) as generator:
        producer = Producer({**(config or producer_config(settings)), "on_delivery": on_delivery})
        log.info(
            "produce_start",
            bootstrap=settings.kafka_bootstrap,
            users=stream.n_users,
            rate=rate,
            duration=duration,
            max_events=max_events,
            chunk=generator.chunk_size,
            generator_pid=generator.pid,
        )
        start = time.monotonic()
        with _signals_stop(stop):
            try:
                while not (stop.requested or generator.done) and (
                    duration is None or time.monotonic() - start < duration
                ):
                    chunk = generator.receive(timeout=0.1)
                    if chunk is None:
                        producer.poll(0)
                        continue
                    handed = send_chunk(
                        producer,
                        [topics[t] for t in chunk.topics],
                        chunk.keys,
                        chunk.values,
                        give_up=lambda: stop.requested,
                    )
                    chunk = chunk.head(handed)
                    producer.poll(0)
                    sent += len(chunk)
                    bad += len(chunk.bad)
                    if truth is not None:
                        truth.write_chunk(chunk)
                if stop.requested:
                    log.info("produce_signal", signal=stop.signal, sent=sent)
            finally:
                remaining = producer.flush(
                    min(flush_timeout, STOP_FLUSH_S) if stop.requested else flush_timeout
                )
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


def send_chunk(
    producer: Producer,
    topics: list[str],
    keys: list[bytes],
    values: list,
    give_up: Callable[[], bool] | None = None,
) -> int:
    """Hand messages to the producer in order, polling to make room when its queue is full.

    Args:
        producer: The confluent-kafka producer.
        topics: Topic of each message.
        keys: Key of each message.
        values: Value of each message.
        give_up: Asked while waiting for room; True stops the hand-over there (a stop
            requested while the broker is away and the queue full).

    Returns:
        How many of the messages were handed over, in order.

    """
    produce = producer.produce
    for i, (topic, value, key) in enumerate(zip(topics, values, keys, strict=True)):
        try:
            produce(topic, value, key)
        except BufferError:
            if not produce_when_room(producer, topic, value, give_up, key=key):
                return i
    return len(values)
