"""Parse a releases dump and hand complete releases, chunk by chunk, to the sinks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from discogs_parser.model import Release
from discogs_parser.parser import ParseStopped, ReleaseReader
from discogs_parser.progress import Progress

Sink = Callable[[Sequence[Release]], object]


@dataclass(frozen=True)
class RunSummary:
    """What one run did."""

    releases: int
    skipped: int
    unknown_genres: int
    seconds: float

    @property
    def rate(self) -> float:
        """Releases per second."""
        return self.releases / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        """Render the one summary line the CLI ends with."""
        return (
            f"releases={self.releases} skipped={self.skipped} "
            f"unknown_genres={self.unknown_genres} seconds={self.seconds:.2f} "
            f"rate={self.rate:.0f}/s"
        )


class RunStopped(Exception):
    """The input stopped early; everything parsed before the stop was handed to the sinks."""


def jsonl_sink(out: TextIO) -> Sink:
    """Return a sink writing one JSON object per release to ``out``."""

    def write(releases: Sequence[Release]) -> None:
        out.writelines(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in releases)

    return write


def run_releases(
    path: Path,
    sinks: Sequence[Sink],
    *,
    limit: int | None = None,
    chunk_size: int = 2000,
    progress: Progress | None = None,
) -> RunSummary:
    """Parse ``path`` and pass every complete release to each sink, in chunks.

    Args:
        path: A ``.xml`` or ``.xml.gz`` releases dump.
        sinks: Callables taking a chunk of releases (Cassandra loader, JSONL writer …).
        limit: Stop after this many good releases.
        chunk_size: Releases per chunk handed to the sinks.
        progress: Where to report bytes read and releases done.

    Returns:
        The counts and timing of the run.

    Raises:
        RunStopped: The file is truncated or corrupt; the message says where and how many
            releases were handed to the sinks before the stop.

    """
    reader = ReleaseReader(path)
    releases = iter(reader)
    start = time.monotonic()
    done = 0
    chunk: list[Release] = []

    def flush() -> None:
        nonlocal done
        if chunk:
            for sink in sinks:
                sink(chunk)
            done += len(chunk)
            chunk.clear()
        if progress:
            progress.update(reader.bytes_read, done)

    try:
        for release in releases:
            chunk.append(release)
            if len(chunk) >= chunk_size:
                flush()
            if limit is not None and done + len(chunk) >= limit:
                break
        flush()
    except ParseStopped as exc:
        flush()
        skipped = reader.stats.skipped
        raise RunStopped(f"{exc}; releases loaded={done} skipped={skipped}") from None
    finally:
        releases.close()  # type: ignore[attr-defined]
        if progress:
            progress.close()
    stats = reader.stats
    return RunSummary(
        releases=done,
        skipped=stats.skipped,
        unknown_genres=stats.unknown_genre_count,
        seconds=time.monotonic() - start,
    )
