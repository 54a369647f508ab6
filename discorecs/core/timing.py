"""One step timer for every multi-step job: micro-batches, the hourly run, the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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
