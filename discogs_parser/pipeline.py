"""Parse a releases dump and hand complete releases, chunk by chunk, to the sinks."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from discogs_parser.model import Release
from discogs_parser.parser import ParseStopped, ReleaseReader
from discogs_parser.progress import Progress


class Sink(Protocol):
    """Somewhere releases go: collect chunks with ``write``, wait for them with ``flush``."""

    def write(self, releases: Sequence[Release]) -> None:
        """Take one chunk of complete releases (may return before they are stored)."""

    def flush(self) -> None:
        """Return once every chunk written so far is stored."""


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


class JsonlSink:
    """Write one JSON object per release, a line each, to an open text stream."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def write(self, releases: Sequence[Release]) -> None:
        """Write the chunk's releases as JSON lines."""
        self._out.writelines(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in releases)

    def flush(self) -> None:
        """Flush the stream."""
        self._out.flush()


class ListSink:
    """Keep the releases in memory (tests, benchmarks)."""

    def __init__(self) -> None:
        self.releases: list[Release] = []

    def write(self, releases: Sequence[Release]) -> None:
        """Append the chunk."""
        self.releases.extend(releases)

    def flush(self) -> None:
        """Nothing to wait for."""


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
        sinks: Where chunks go (Cassandra loader, JSONL writer …); flushed before returning.
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

    def hand_over(*, wait: bool = False) -> None:
        nonlocal done
        if chunk:
            for sink in sinks:
                sink.write(chunk)
            done += len(chunk)
            chunk.clear()
        if wait:
            for sink in sinks:
                sink.flush()
        if progress:
            progress.update(reader.bytes_read, done)

    try:
        for release in releases:
            chunk.append(release)
            if len(chunk) >= chunk_size:
                hand_over()
            if limit is not None and done + len(chunk) >= limit:
                break
        hand_over(wait=True)
    except ParseStopped as exc:
        hand_over(wait=True)
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
