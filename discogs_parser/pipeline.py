"""Parse a releases dump, in one process or several, and hand the releases to the sinks in order.

The dump is cut into blocks of whole records; an engine parses them (here, or in a pool of
parser processes while this process reads the file) and the blocks' results are merged here in
file order. Counts, logged bad records, the one-line error of a bad file and the order of what
reaches the sinks are therefore the same for any number of workers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from discogs_parser.engines import Engine, InlineEngine, PoolEngine, WorkerDied
from discogs_parser.parser import BLOCK_BYTES, ParseStats, StopPoint
from discogs_parser.progress import Progress
from discogs_parser.sinks import Sink
from discogs_parser.source import InputFailed, cut_blocks, open_dump


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


def run_releases(
    path: Path,
    sinks: Sequence[Sink],
    *,
    workers: int = 1,
    block_bytes: int = BLOCK_BYTES,
    limit: int | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Parse ``path`` and pass every complete release to each sink, in file order.

    Args:
        path: A ``.xml`` or ``.xml.gz`` releases dump.
        sinks: Where releases go (Cassandra loader, JSONL writer …); finished before returning.
        workers: Parser processes; 1 parses in this process. ``limit`` parses in this process.
        block_bytes: Decompressed bytes per block.
        limit: Stop after this many good releases.
        progress: Where to report bytes read and releases done.

    Returns:
        The counts and timing of the run.

    Raises:
        RunStopped: The file is truncated or corrupt, or a parser process died; the message
            says where or which, and how many releases were handed to the sinks before the stop.

    """
    start = time.monotonic()
    stats = ParseStats()
    done = 0
    stop: StopPoint | None = None
    message = ""
    engine: Engine
    if workers > 1 and limit is None:
        engine = PoolEngine(sinks, workers, block_bytes=block_bytes)
    else:
        engine = InlineEngine(sinks, limit)
    try:
        with open_dump(path) as source:
            try:
                for outcome in engine.outcomes(cut_blocks(source, block_bytes)):
                    result = outcome.result
                    stats.add(result)
                    for sink, receipt in zip(sinks, outcome.receipts, strict=True):
                        sink.accept(receipt)
                    engine.commit(result.index)
                    done += result.good
                    if progress:
                        progress.update(outcome.raw_position, done)
                    if result.error is not None:
                        stop = StopPoint.of_block(
                            result, outcome.raw_position, outcome.xml_position
                        )
                        break
            except InputFailed as failure:
                stop = StopPoint.of_input(failure)
            except WorkerDied as died:
                message = f"{path.name}: {died}"
            if stop:
                message = stop.message(path, source, stats)
    finally:
        closings = engine.close()
        for sink, parts in zip(sinks, closings, strict=True):
            sink.finish(parts)
        if progress:
            progress.close()
    if message:
        raise RunStopped(f"{message}; releases loaded={done} skipped={stats.skipped}")
    return RunSummary(
        releases=done,
        skipped=stats.skipped,
        unknown_genres=stats.unknown_genre_count,
        seconds=time.monotonic() - start,
    )
