"""Step timers of the multi-step jobs (micro-batches, the hourly run, benchmarks); progress logs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from discorecs.core.logs import get_logger

StepHook = Callable[[str, int, float, BaseException | None], None]
"""Told each finished step: its name, its rows, its seconds and the error it raised (or None)."""


class StepTimer:
    """Times named steps; ``with timer("read", rows=10): ...`` records the step's seconds.

    Args:
        hook: Called after each step (for logging, or recording it in ``batch_runs``).

    Attributes:
        seconds: Seconds of each finished step, by name, in the order they ran.

    """

    def __init__(self, hook: StepHook | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self._hook = hook

    @contextmanager
    def __call__(self, name: str, rows: int | Callable[[], int] = 0) -> Iterator[None]:
        """Time the body as step ``name``; ``rows`` may be a callable read once it is done."""
        started = time.perf_counter()
        try:
            yield
        except BaseException as error:
            self._finish(name, 0, started, error)
            raise
        self._finish(name, rows() if callable(rows) else rows, started, None)

    def _finish(self, name: str, rows: int, started: float, error: BaseException | None) -> None:
        seconds = time.perf_counter() - started
        if error is None:
            self.seconds[name] = seconds
        if self._hook is not None:
            self._hook(name, rows, seconds, error)


class ProgressLog:
    """Reports a long step's progress: a line at most every ``interval_s`` seconds.

    Call it with each chunk of work done; it reports the units done, the total, the rate so far
    and the seconds left at that rate, until the work is done (the step's own record says when
    it ended).

    Args:
        step: The step's name.
        total: Units of work in the step.
        report: Given the event name and its fields (default: a structured log line).
        interval_s: Least seconds between two reports.
        clock: Monotonic seconds.

    """

    def __init__(
        self,
        step: str,
        total: int,
        report: Callable[..., None] | None = None,
        interval_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.step = step
        self.total = total
        self.done = 0
        self._report = report or get_logger("progress").info
        self._interval = interval_s
        self._clock = clock
        self._start = clock()
        self._next = self._start + interval_s

    def __call__(self, units: int) -> None:
        """Count ``units`` more done and report if the interval has passed."""
        self.done += units
        now = self._clock()
        if now < self._next or self.done >= self.total:
            return
        self._next = now + self._interval
        rate = self.done / max(now - self._start, 1e-9)
        self._report(
            "step_progress",
            step=self.step,
            done=self.done,
            total=self.total,
            rate=rate,
            left_s=(self.total - self.done) / max(rate, 1e-9),
        )
