"""The driver side of a micro-batch: concurrent timed writes and the stats it logs."""

import threading
from collections import Counter
from collections.abc import Callable

import pytest

from discorecs.core.timing import StepTimer
from spark_jobs.stream.micro_batch import batch_stats, run_concurrently
from spark_jobs.stream.summary import BatchSummary


def test_writes_run_concurrently_and_are_timed_by_name() -> None:
    """Each write waits for the other at a barrier: run one after the other, both would fail."""
    both_running = threading.Barrier(2, timeout=5)

    def write(result: int) -> Callable[[], int]:
        def run() -> int:
            both_running.wait()
            return result

        return run

    timer = StepTimer()
    results = run_concurrently({"users": write(1), "activity": write(2)}, timer)
    assert results == {"users": 1, "activity": 2}
    assert set(timer.seconds) == {"users", "activity"}


def test_no_writes_no_threads() -> None:
    assert run_concurrently({}, StepTimer()) == {}


def test_the_first_failure_is_raised() -> None:
    def fail() -> None:
        raise RuntimeError("cassandra down")

    timer = StepTimer()
    with pytest.raises(RuntimeError, match="cassandra down"):
        run_concurrently({"ok": lambda: 1, "collections": fail}, timer)
    assert "collections" not in timer.seconds


def test_batch_stats_from_the_summary() -> None:
    summary = BatchSummary(
        counts=Counter({("collections", False): 6, ("activity", False): 3, ("users", True): 1}),
        release_events=Counter({42: 2, 43: 7}),
        seconds_histogram=[(998, 100)],
    )
    timer = StepTimer()
    with timer("summary"):
        pass
    stats = batch_stats(5, summary, {42}, 11, 4, 2.0, 1_000.5, timer)  # written at 1000.5 s
    assert (stats.batch_id, stats.rows_in, stats.users) == (5, 10, 0)
    assert (stats.collection_events, stats.activity_events) == (6, 3)
    assert stats.dead_letters == 1 + 2
    assert (stats.collection_mutations, stats.changed_users) == (11, 4)
    assert stats.seconds == 2.0 and stats.input_rate == 5.0
    # the events of second 998 are timed at its middle: written 2.0 s later
    assert stats.latency_p50_ms == stats.latency_p99_ms == 2000.0
    assert stats.latencies_ms == [(2000.0, 100)]
    assert stats.written_at_ms == 1_000_500
    assert stats.step_seconds == timer.seconds
    empty = batch_stats(6, BatchSummary(), set(), 0, 0, 0.5, 1_000.5, StepTimer())
    assert empty.latency_p50_ms is None and empty.latency_p99_ms is None
