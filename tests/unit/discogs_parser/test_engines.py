"""Engines: a failure in a parser process reaches the caller, the other processes stop cleanly."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import pytest

from discogs_parser.engines import InlineEngine, PoolEngine
from discogs_parser.model import Release
from discogs_parser.pipeline import RunStopped, run_releases
from discogs_parser.sinks import ListSink
from discogs_parser.source import cut_blocks, open_dump
from tests.support import SAMPLE


class Broken(Exception):
    pass


class FailingSink(ListSink):
    """Its parts fail on the block ``fail_at`` (-1: when opened)."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at

    def open(self) -> Any:
        if self.fail_at < 0:
            raise Broken("cannot open")
        part = super().open()
        fail_at = self.fail_at

        class Part:
            def write(self, index: int, releases: list[Release]) -> Any:
                if index == fail_at:
                    raise Broken(f"block {index}")
                return part.write(index, releases)

            def commit(self, through: int) -> None:
                pass

            def close(self) -> None:
                pass

        return Part()


@pytest.mark.parametrize(("fail_at", "message"), [(-1, "cannot open"), (5, "block 5")])
def test_a_part_failure_is_raised_by_the_pool(fail_at: int, message: str) -> None:
    sink = FailingSink(fail_at)
    with pytest.raises(Broken, match=message):
        run_releases(SAMPLE, [sink], workers=2, block_bytes=20_000)
    assert len(sink.releases) < 800


class DyingSink(ListSink):
    """In a parser process, its part answers a block with 32 MB and is killed while sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.reader = os.getpid()

    def open(self) -> Any:
        part = super().open()
        reader = self.reader

        class Part:
            def write(self, index: int, releases: list[Release]) -> Any:
                if os.getpid() == reader:
                    return part.write(index, releases)
                kill = threading.Timer(0.08, os.kill, (os.getpid(), signal.SIGKILL))
                kill.start()
                return b"x" * 32_000_000

            def commit(self, through: int) -> None:
                pass

            def close(self) -> None:
                pass

        return Part()


@pytest.mark.timeout(60, method="thread")
def test_a_parser_process_killed_mid_answer_is_an_error_not_a_hang() -> None:
    """Killed 80 ms after answering 32 MB: on this box most often half-way through the send."""
    died = "parser process discogs-parser-0 ended with exit -9"
    with pytest.raises(RunStopped, match=rf"^{SAMPLE.name}: {died}; releases loaded=\d+ "):
        run_releases(SAMPLE, [DyingSink()], workers=2, block_bytes=20_000)


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize(
    "slot_block_bytes",
    [30_000, 15_500, 1_000],
    ids=["every block in the shared slots", "some through the queue", "all through the queue"],
)
def test_pool_and_inline_engines_yield_the_same_outcomes(
    slot_block_bytes: int, workers: int
) -> None:
    def outcomes(engine: Any, parts: int) -> list[tuple[int, int, list[Release]]]:
        with open_dump(SAMPLE) as source:
            got = [
                (o.result.index, o.result.good, o.receipts[0])
                for o in engine.outcomes(cut_blocks(source, 30_000))
            ]
        assert engine.close() == [[None] * parts]
        return got

    inline = outcomes(InlineEngine([ListSink()]), 1)
    pool = PoolEngine([ListSink()], workers, depth=1, block_bytes=slot_block_bytes)
    assert outcomes(pool, workers) == inline and len(inline) > 20


def test_a_pool_needs_two_workers() -> None:
    with pytest.raises(ValueError, match="at least 2 workers"):
        PoolEngine([ListSink()], 1)
