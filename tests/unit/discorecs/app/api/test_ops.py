"""The dashboard's batches of the window and hourly runs (grouped from their recorded steps)."""

import uuid
from types import SimpleNamespace

from discorecs.app.api.ops import batch_points, run_out
from discorecs.app.status import HourlyRun, RunStep, group_runs


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


def test_only_the_window_is_drawn() -> None:
    points = batch_points([batch(1, 1_000), batch(2, 5_000), batch(3, 9_000)], since_ms=5_000)
    assert [p.batch_id for p in points] == [2, 3]


def test_a_run_has_its_time_total_and_steps() -> None:
    run_id = str(uuid.uuid1())
    run = HourlyRun(
        run_id,
        [
            RunStep(run_id, "write", "ok", 5, 2.0),
            RunStep(run_id, "write.listed", "ok", 5, 1.5),
            RunStep(run_id, "friends", "failed", 0, 0.5),
        ],
    )
    out = run_out(run)
    assert out.at is not None and not out.ok and out.seconds == 2.5  # write.listed is in write
    assert [s.step for s in out.steps] == ["friends", "write", "write.listed"]


def test_runs_are_grouped_newest_first_and_one_the_limit_may_have_cut_is_left_out() -> None:
    def rows(*runs: tuple[str, int]) -> list[SimpleNamespace]:
        return [
            SimpleNamespace(run_id=run, step=f"s{i}", status="ok", rows=1, seconds=1.0)
            for run, steps in runs
            for i in range(steps)
        ]

    assert [(r.run_id, len(r.steps)) for r in group_runs(rows(("b", 3), ("a", 2)), 6)] == [
        ("b", 3),
        ("a", 2),
    ]
    assert [r.run_id for r in group_runs(rows(("b", 3), ("a", 2)), 5)] == ["b"]
