"""Load runs: when one held (p99 under the limit, a flat lag), faults, the stream's cold start,
the truth file kept only as the evidence of a failed check."""

import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import click
import pytest

from discorecs.app.loadtest import (
    LoadReport,
    Tick,
    cold_start,
    fault_plan,
    keep_truth_if_failed,
    recovery_seconds,
    service_nodes,
)
from discorecs.app.verify import Discrepancy
from discorecs.core.settings import Settings

RATE = 100.0
DURATION = 30.0


def report(lags: list[int], p99: float | None = 1000.0, drain: Sequence[int] = ()) -> LoadReport:
    """A run of ``len(lags)`` one-second ticks, then optional ticks after the produce phase."""
    ticks = [Tick(float(t + 1), 0, 0, lag, p99) for t, lag in enumerate(lags)]
    ticks += [Tick(DURATION + 1 + t, 0, 0, lag, None) for t, lag in enumerate(drain)]
    return LoadReport(
        rate=RATE,
        duration=DURATION,
        produced=3000,
        produce_failed=0,
        produced_rate=RATE,
        consumed_rate=RATE,
        max_lag=max(lags),
        latency_p50_ms=200.0,
        latency_p99_ms=p99,
        dead_letters=0,
        discrepancies=[Discrepancy("collections", 2, 1), Discrepancy("users", 0, 3)],
        ticks=ticks,
    )


def test_a_flat_lag_under_the_p99_limit_held() -> None:
    assert report([300] * 30).held()
    assert report([300] * 30, p99=5000.0).held()


def test_a_p99_over_the_limit_did_not_hold() -> None:
    assert not report([300] * 30, p99=5000.1).held()
    assert not report([300] * 30, p99=900.0).held(p99_limit_ms=800.0)
    assert not report([300] * 30, p99=None).held()


def test_a_growing_lag_did_not_hold() -> None:
    growing = [0] * 20 + [200 * t for t in range(1, 11)]
    assert not report(growing).held()
    steep = [10 * (t + 1) ** 2 for t in range(30)]
    assert not report(steep).held()


def test_lag_noise_below_five_seconds_of_events_still_held() -> None:
    assert report([0] * 20 + [int(RATE * 5)] * 10).held()
    assert not report([0] * 20 + [int(RATE * 5) + 1] * 10).held()


def test_the_drain_after_the_produce_phase_does_not_count() -> None:
    assert report([300] * 30, drain=[10**6] * 10).held()


def test_lost_and_duplicated_sum_the_discrepancies() -> None:
    run = report([0] * 30)
    assert (run.lost, run.duplicated) == (2, 4)


def batch(written: float, seconds: float) -> dict[str, float]:
    return {"written_at_ms": written * 1000, "seconds": seconds}


def test_recovery_after_an_outage_runs_from_the_repair() -> None:
    batches = [batch(95, 1), batch(112, 3), batch(130, 2)]
    assert recovery_seconds(batches, 100.0, 110.0, tolerated=False) == 2.0
    assert recovery_seconds(batches[:1], 100.0, 110.0, tolerated=False) is None


def test_recovery_from_a_tolerated_fault_runs_from_the_break() -> None:
    """A batch begun before the break (112 - 15 < 100) does not count as recovered."""
    batches = [batch(112, 15), batch(118, 4)]
    assert recovery_seconds(batches, 100.0, 120.0, tolerated=True) == 18.0


def test_nodes_of_a_service_in_both_topologies() -> None:
    assert service_nodes(Settings(), "kafka") == ("kafka",)
    three = Settings(nodes=3)
    assert service_nodes(three, "cassandra") == ("cassandra-1", "cassandra-2", "cassandra-3")
    assert service_nodes(three, "spark-worker") == ("spark-worker-1", "spark-worker-2")


def test_worker_faults_need_a_standalone_cluster() -> None:
    with pytest.raises(click.BadParameter, match="--nodes 3"):
        fault_plan("kill-spark-worker", Settings(), Settings(), None, 10.0)  # type: ignore[arg-type]
    plan = fault_plan("kill-cassandra", Settings(nodes=3), Settings(), None, 10.0)  # type: ignore[arg-type]
    assert plan.tolerated and plan.outage_seconds == 20.0
    assert not fault_plan("kill-cassandra", Settings(), Settings(), None, 10.0).tolerated  # type: ignore[arg-type]


def test_the_cold_start_counts_from_the_launch_to_the_first_batch_with_records() -> None:
    batches = [
        {"rows_in": 0, "written_at_ms": 1_000_009_000},
        {"rows_in": 3500, "written_at_ms": 1_000_020_500},
        {"rows_in": 9000, "written_at_ms": 1_000_030_000},
    ]
    started = cold_start(1_000_000.0, 1_000_005.0, 1_000_006.5, batches)
    assert (started.query_up, started.producing, started.first_data) == (5.0, 6.5, 20.5)
    assert "first_data_batch_written=20.5s" in started.summary()


def test_a_stream_that_wrote_no_records_has_no_first_data_time() -> None:
    started = cold_start(10.0, 15.0, 16.0, [{"rows_in": 0, "written_at_ms": 20_000}])
    assert started.first_data is None
    assert "first_data_batch_written=-" in started.summary()


CLEANS_UP_ON_SIGTERM = """
import pathlib, sys, time
from discorecs.app.loadtest import terminated_as_exit
with terminated_as_exit():
    try:
        print("ready", flush=True)
        time.sleep(60)
    finally:
        pathlib.Path(sys.argv[1]).write_text("stopped")
"""


def test_a_sigterm_runs_the_cleanup_of_a_load_test(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    child = subprocess.Popen(
        [sys.executable, "-c", CLEANS_UP_ON_SIGTERM, str(marker)], stdout=subprocess.PIPE
    )
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=30) == 128 + signal.SIGTERM
    assert marker.read_text() == "stopped"


def test_the_truth_is_kept_only_when_something_was_lost_or_doubled(tmp_path: Path) -> None:
    failed, passed = report([300] * 30), report([300] * 30)
    passed.discrepancies = [Discrepancy("collections", 0, 0)]
    for name, run in (("failed", failed), ("passed", passed)):
        (tmp_path / name).write_text("{}\n")
        keep_truth_if_failed(run, tmp_path / name)
    assert (failed.truth, (tmp_path / "failed").exists()) == (tmp_path / "failed", True)
    assert (passed.truth, (tmp_path / "passed").exists()) == (None, False)
