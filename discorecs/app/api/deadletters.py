"""Dead letters by reason, read incrementally from the dead-letter topic's ``reason`` header.

The stream's metrics file counts dead letters per micro-batch but not why. One consumer stays
assigned to every partition: the first call reads the topic from its start, later calls only
what arrived since, each up to the partitions' end offsets taken when the call starts and within
a time budget, so the dashboard never waits on a long topic. A
micro-batch replayed after a crash may add a second copy of its dead letters (compaction
removes it later): such copies count twice here.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from discorecs.core import events
from discorecs.core.settings import Settings

BATCH = 500
POLL_S = 0.25
FETCH_WAIT_MS = 100
"""The broker answers a fetch within this even when it has nothing (librdkafka waits 500 ms by
default, which made a fresh consumer's first read miss a one-second budget)."""


class DeadLetterTally:
    """Counts of dead letters per reason category, kept up to date on each :meth:`refresh`.

    Args:
        settings: Broker and topic prefix.

    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = settings.topic("dead_letters")
        self.counts: Counter[str] = Counter()
        self._consumer: Consumer | None = None
        self._partitions: list[TopicPartition] = []
        self._lock = threading.Lock()

    def _assign(self, timeout: float) -> Consumer:
        if self._consumer is None:
            consumer = Consumer(
                {
                    "bootstrap.servers": self.settings.kafka_bootstrap,
                    "group.id": f"discorecs-api-{uuid.uuid4().hex[:8]}",
                    "enable.auto.commit": False,
                    "fetch.wait.max.ms": FETCH_WAIT_MS,
                }
            )
            try:
                metadata = consumer.list_topics(self.topic, timeout=timeout).topics[self.topic]
                if metadata.error is not None:
                    raise KafkaException(metadata.error)
            except Exception:
                consumer.close()
                raise
            self._partitions = [
                TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in metadata.partitions
            ]
            consumer.assign(self._partitions)
            self._consumer = consumer
        return self._consumer

    def refresh(self, budget_s: float) -> Counter[str]:
        """Read what arrived since the last call (for at most ``budget_s``), return the counts.

        Reading stops when every partition has reached the end offset it had when the call
        started (caught up), or when the budget is spent; the next call goes on.

        Raises:
            confluent_kafka.KafkaException: The broker or the topic cannot be reached.

        """
        with self._lock:
            consumer = self._assign(budget_s)
            deadline = time.monotonic() + budget_s
            ends = {
                tp.partition: consumer.get_watermark_offsets(tp, timeout=budget_s)
                for tp in self._partitions
            }
            while time.monotonic() < deadline and self._behind(consumer, ends):
                for message in consumer.consume(BATCH, timeout=POLL_S):
                    if message.error() is not None:
                        continue
                    reason = dict(message.headers() or []).get("reason")
                    text = reason.decode(errors="replace") if isinstance(reason, bytes) else "?"
                    self.counts[events.reason_category(text)] += 1
            return Counter(self.counts)

    def _behind(self, consumer: Consumer, ends: dict[int, tuple[int, int]]) -> bool:
        """Whether some partition's position is short of its end offset in ``ends``."""
        for tp in consumer.position(self._partitions):
            low, high = ends[tp.partition]
            if max(tp.offset, low) < high:
                return True
        return False

    def close(self) -> None:
        """Close the consumer, if one was opened."""
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None
