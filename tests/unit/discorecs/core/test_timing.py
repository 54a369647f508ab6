"""StepTimer: seconds per finished step, the hook told of every step, failures propagate.
ProgressLog: a report at most every interval, with the rate and the seconds left."""

import time
from typing import Any

import pytest

from discorecs.core.timing import ProgressLog, StepTimer


class Recorder:
    """A hook that keeps what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, float, BaseException | None]] = []

    def __call__(self, name: str, rows: int, seconds: float, error: BaseException | None) -> None:
        self.calls.append((name, rows, seconds, error))


def test_steps_are_recorded_in_order_with_their_seconds() -> None:
    hook = Recorder()
    timer = StepTimer(hook)
    with timer("read", rows=10):
        time.sleep(0.02)
    with timer("write"):
        pass
    assert list(timer.seconds) == ["read", "write"]
    assert timer.seconds["read"] >= 0.02 and timer.seconds["write"] >= 0.0
    assert [(name, rows, error) for name, rows, _, error in hook.calls] == [
        ("read", 10, None),
        ("write", 0, None),
    ]
    assert [seconds for _, _, seconds, _ in hook.calls] == list(timer.seconds.values())


def test_rows_may_be_counted_after_the_body() -> None:
    hook = Recorder()
    timer = StepTimer(hook)
    out: list[int] = []
    with timer("collect", rows=lambda: len(out)):
        out.extend(range(7))
    assert hook.calls[0][:2] == ("collect", 7)


def test_a_failing_step_is_not_recorded_and_its_error_propagates() -> None:
    hook = Recorder()
    timer = StepTimer(hook)
    error = RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"), timer("explode", rows=lambda: 99):
        raise error
    assert "explode" not in timer.seconds
    ((name, rows, seconds, seen),) = hook.calls
    assert (name, rows, seen) == ("explode", 0, error)
    assert seconds >= 0.0


def test_a_timer_without_a_hook_only_records() -> None:
    timer = StepTimer()
    with timer("one", rows=3):
        pass
    assert list(timer.seconds) == ["one"]


def test_progress_is_reported_at_most_every_interval_until_the_work_is_done() -> None:
    now = [0.0]
    reports: list[tuple[str, dict[str, Any]]] = []
    progress = ProgressLog(
        "lists", 100, lambda event, **fields: reports.append((event, fields)), 30.0, lambda: now[0]
    )
    for at, units in ((10.0, 10), (31.0, 30), (40.0, 10), (62.0, 10), (95.0, 40)):
        now[0] = at
        progress(units)
    assert reports == [
        (
            "step_progress",
            {
                "step": "lists",
                "done": 40,
                "total": 100,
                "rate": 40 / 31.0,
                "left_s": 60 / (40 / 31.0),
            },
        ),
        (
            "step_progress",
            {
                "step": "lists",
                "done": 60,
                "total": 100,
                "rate": 60 / 62.0,
                "left_s": 40 / (60 / 62.0),
            },
        ),
    ], "nothing before 30 s, nothing within 30 s of a report, nothing once all is done"
