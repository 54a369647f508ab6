"""The pipeline as the API sees it: readiness, stream lag and batches, runs, dead letters.

Shared by ``/health/ready``, ``/metrics`` and the operations dashboard. The stream's figures
come from :mod:`spark_jobs.stream.progress` (checkpoint offsets against the broker's ends, the
per-batch metrics file), the hourly runs from ``batch_runs``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from discorecs.app.api.deadletters import DeadLetterTally
from discorecs.app.api.events import EventSender
from discorecs.app.api.reads import Reads
from discorecs.core.settings import Settings
from spark_jobs.stream.progress import (
    MetricsLog,
    checkpoint_dir,
    committed_offsets,
    end_offsets,
    lag,
    metrics_path,
)

KEPT_BATCHES = 2000
"""Micro-batches the API keeps (the newest): what the dashboard can draw."""


@dataclass(frozen=True)
class BatchLog:
    """The stream's batch log as the API keeps it: the newest batches, totals over all read."""

    batches: list[dict[str, Any]]
    total: int
    dead_letters: int


@dataclass(frozen=True)
class Check:
    """One readiness check: passed or not, a one-line detail and the figure it judged."""

    ok: bool
    detail: str
    value: float | None = None


class Pipeline:
    """Read-only views of the pipeline for one API process.

    Args:
        settings: Keyspace, topics, checkpoint folder and the ``api`` thresholds.
        reads: The process's Cassandra reads.
        sender: The process's producer (its metadata requests check Kafka).

    """

    def __init__(self, settings: Settings, reads: Reads, sender: EventSender) -> None:
        self.settings = settings
        self.reads = reads
        self.sender = sender
        self.dead_letters = DeadLetterTally(settings)
        self._metrics = MetricsLog(metrics_path(settings), keep=KEPT_BATCHES)
        self._batches_lock = threading.Lock()

    def stream_lag(self) -> int:
        """Records on the broker the stream has not committed (raises when Kafka is down)."""
        ends = end_offsets(self.settings, timeout=self.settings.api.health_timeout_s)
        return lag(committed_offsets(checkpoint_dir(self.settings)), ends)

    def batch_log(self) -> BatchLog:
        """The stream's logged micro-batches; each call reads only the lines added since."""
        with self._batches_lock:
            batches = self._metrics.read()
            return BatchLog(batches, self._metrics.total, self._metrics.dead_letters)

    def _kafka(self) -> Check:
        missing = self.sender.missing_topics(self.settings.api.health_timeout_s)
        if missing:
            return Check(False, f"missing topics: {', '.join(missing)}")
        return Check(True, "broker answers, event topics exist")

    def _cassandra(self) -> Check:
        self.reads.probe()
        return Check(True, f"keyspace {self.settings.keyspace} answers")

    def _stream(self) -> Check:
        behind, limit = self.stream_lag(), self.settings.api.ready_max_lag
        return Check(behind <= limit, f"lag {behind} records (ready up to {limit})", behind)

    def readiness(self) -> dict[str, Check]:
        """Kafka, Cassandra and the stream's lag, checked concurrently."""
        checks: dict[str, Callable[[], Check]] = {
            "kafka": self._kafka,
            "cassandra": self._cassandra,
            "stream": self._stream,
        }

        def run(check: Callable[[], Check]) -> Check:
            try:
                return check()
            except Exception as error:  # noqa: BLE001 - any failure makes the part not ready
                first_line = (str(error) or type(error).__name__).splitlines()[0]
                return Check(False, f"{type(error).__name__}: {first_line}")

        with ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="ready") as pool:
            futures = {name: pool.submit(run, check) for name, check in checks.items()}
            return {name: future.result() for name, future in futures.items()}

    def close(self) -> None:
        """Close the dead-letter consumer."""
        self.dead_letters.close()
