"""Progress of a long parse: a tqdm bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import Protocol

from tqdm import tqdm

from discorecs.core.logs import get_logger

log = get_logger("discogs_parser.progress")


class Progress(Protocol):
    """Told the bytes read and releases done so far; shows them somehow."""

    def update(self, bytes_read: int, releases: int) -> None:
        """Report the current position."""

    def close(self) -> None:
        """Finish the display."""


class BarProgress:
    """A tqdm bar over the bytes of the file, with releases/s as a postfix."""

    def __init__(self, total_bytes: int, label: str) -> None:
        self._bar = tqdm(total=total_bytes, unit="B", unit_scale=True, desc=label, file=sys.stderr)
        self._start = time.monotonic()

    def update(self, bytes_read: int, releases: int) -> None:
        """Move the bar to ``bytes_read``."""
        self._bar.update(bytes_read - self._bar.n)
        elapsed = max(time.monotonic() - self._start, 1e-9)
        self._bar.set_postfix(releases=releases, rate=f"{releases / elapsed:,.0f}/s", refresh=False)

    def close(self) -> None:
        """Close the bar."""
        self._bar.close()


class LogProgress:
    """One structured log line every ``interval_s`` seconds."""

    def __init__(self, total_bytes: int, interval_s: float = 10.0) -> None:
        self._total = total_bytes
        self._interval = interval_s
        self._start = time.monotonic()
        self._next = self._start + interval_s

    def update(self, bytes_read: int, releases: int) -> None:
        """Log the position if the interval has passed."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self._interval
        elapsed = now - self._start
        log.info(
            "progress",
            bytes=bytes_read,
            total=self._total,
            pct=100.0 * bytes_read / max(self._total, 1),
            releases=releases,
            rate=releases / elapsed,
        )

    def close(self) -> None:
        """Nothing to close."""


def make_progress(total_bytes: int, label: str, *, enabled: bool = True) -> Progress:
    """Return a bar when stderr is a terminal, log lines otherwise.

    Args:
        total_bytes: Size of the input on disk.
        label: Bar description (the file name).
        enabled: False to get log lines even on a terminal.

    Returns:
        The progress display.

    """
    if enabled and sys.stderr.isatty():
        return BarProgress(total_bytes, label)
    return LogProgress(total_bytes)
