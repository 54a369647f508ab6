"""The dashboard's batches of the window and hourly runs."""

import uuid

from discorecs.app.api.ops import MAX_POINTS, batch_points, run_out
from discorecs.app.status import HourlyRun, RunStep


def batch(batch_id: int, at_ms: int) -> dict[str, object]:
    return {
        "batch_id": batch_id,
        "written_at_ms": at_ms,
        "rows_in": 10,
        "input_rate": 5.0,
        "seconds": 2.0,
        "latency_p50_ms": 900.0,
        "latency_p99_ms": None,
        "dead_letters": 1,
    }


def test_only_the_window_is_drawn_and_at_most_max_points() -> None:
    points = batch_points([batch(1, 1_000), batch(2, 5_000), batch(3, 9_000)], since_ms=5_000)
    assert [p.batch_id for p in points] == [2, 3]
    many = [batch(i, i) for i in range(MAX_POINTS + 10)]
    kept = batch_points(many, since_ms=0)
    assert len(kept) == MAX_POINTS and kept[-1].batch_id == MAX_POINTS + 9


def test_a_run_has_its_time_total_and_steps() -> None:
    run_id = str(uuid.uuid1())
    run = HourlyRun(
        run_id,
        [RunStep(run_id, "write", "ok", 5, 2.0), RunStep(run_id, "friends", "failed", 0, 0.5)],
    )
    out = run_out(run)
    assert out.at is not None and not out.ok and out.seconds == 2.5
    assert [s.step for s in out.steps] == ["friends", "write"]
