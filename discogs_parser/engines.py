"""Parse blocks and run the sinks' parts: in this process, or in a pool of parser processes.

:class:`PoolEngine` keeps this process for reading (and decompressing) the file: it hands the
blocks round-robin to N parser processes through bounded queues and takes their results back in
the same order, so at most ``N x depth`` blocks are in flight and memory stays flat. A block's
bytes travel through a slot of a shared anonymous mapping, one per block in flight, not through
the queue: pickling a megabyte into a pipe and reading it back cost ~2 CPU-ms a block between
the two sides, ~15 % of parsing it. Each parser process opens its own part of every sink (a
Cassandra session for the loader), so parsing and storing use every core. Commits travel with
the next block sent, and a final one with the stop.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import pickle
import queue
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from discogs_parser.parser import BLOCK_BYTES, BlockResult, parse_block
from discogs_parser.sinks import Sink, SinkPart
from discogs_parser.source import Block, InputFailed

DEPTH = 3
"""Blocks in flight per parser process."""
_POLL_S = 1.0


@dataclass(frozen=True)
class Outcome:
    """A parsed block as the merging loop gets it.

    Attributes:
        result: The block's counts (``releases`` emptied when parsed in another process).
        receipts: One receipt per sink.
        raw_position: Bytes of the file read when the block was cut.
        xml_position: Decompressed bytes read when the block was cut.

    """

    result: BlockResult
    receipts: list[Any]
    raw_position: int
    xml_position: int


class Engine(Protocol):
    """Parses blocks and runs the sinks' parts: here (:class:`InlineEngine`) or in a pool."""

    def outcomes(self, blocks: Iterable[Block]) -> Iterator[Outcome]:
        """Parse the blocks, yielding their outcomes in file order.

        Raises:
            InputFailed: Reading failed, after the outcomes of every block read before.

        """

    def commit(self, through: int) -> None:
        """Blocks up to ``through`` are merged and final: let the parts store them."""

    def close(self) -> list[list[Any]]:
        """Close every part; return, per sink, what its parts returned."""


class InlineEngine:
    """Parse in this process, one block after the other.

    Args:
        sinks: Where the releases go.
        limit: Hand over no more than this many releases.

    """

    def __init__(self, sinks: Sequence[Sink], limit: int | None = None) -> None:
        self._parts: list[SinkPart] = []
        for sink in sinks:
            self._parts.append(sink.open())
        self._left = limit

    def outcomes(self, blocks: Iterable[Block]) -> Iterator[Outcome]:
        """Parse each block here and give its releases to the parts (see :class:`Engine`)."""
        for block in blocks:
            result = parse_block(block)
            if self._left is not None:
                del result.releases[self._left :]
                result.good = len(result.releases)
                result.last_id = result.releases[-1].release_id if result.releases else None
                self._left -= result.good
            receipts = [part.write(block.index, result.releases) for part in self._parts]
            yield Outcome(result, receipts, block.raw_position, block.xml_position)
            if self._left == 0:
                return

    def commit(self, through: int) -> None:
        """Let the parts store the blocks up to ``through``."""
        for part in self._parts:
            part.commit(through)

    def close(self) -> list[list[Any]]:
        """Close the parts (each one, even when another fails)."""
        closings: list[list[Any]] = []
        failure: Exception | None = None
        for part in self._parts:
            try:
                closings.append([part.close()])
            except Exception as exc:  # noqa: BLE001 - the first failure is raised below
                failure = failure or exc
                closings.append([])
        if failure is not None:
            raise failure
        return closings


class PoolEngine:
    """Parse in ``workers`` parser processes while this process reads the file.

    Args:
        sinks: Where the releases go; each process opens its own part of each.
        workers: Parser processes.
        depth: Blocks in flight per process.
        block_bytes: The bytes a block is cut at: its slot in the shared mapping holds twice
            that (the rest of a record always fits but for records longer than a block,
            whose blocks travel through the queue).

    """

    def __init__(
        self,
        sinks: Sequence[Sink],
        workers: int,
        depth: int = DEPTH,
        block_bytes: int = BLOCK_BYTES,
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._sinks = len(sinks)
        self._in_flight = workers * depth
        self._through = -1
        self._slot_bytes = 2 * block_bytes
        # One slot per block in flight. Anonymous and shared: the forked processes see what
        # this one writes, and nothing is left behind on any exit.
        self._slots = mmap.mmap(-1, self._in_flight * self._slot_bytes)
        self._inboxes = [context.Queue(depth + 1) for _ in range(workers)]
        self._outboxes = [context.Queue(depth + 2) for _ in range(workers)]
        # A forked child flushes the standard streams it inherited when it ends.
        sys.stdout.flush()
        sys.stderr.flush()
        self._processes = [
            context.Process(
                target=_work,
                args=(sinks, inbox, outbox, os.getpid(), self._slots),
                name=f"discogs-parser-{i}",
                daemon=True,
            )
            for i, (inbox, outbox) in enumerate(zip(self._inboxes, self._outboxes, strict=True))
        ]
        self._running = [True] * workers
        for process in self._processes:
            process.start()

    def outcomes(self, blocks: Iterable[Block]) -> Iterator[Outcome]:
        """Send the blocks round-robin, yielding their outcomes in file order (see Engine)."""
        window: deque[tuple[int, int, int]] = deque()
        try:
            for block in blocks:
                if len(window) >= self._in_flight:
                    yield self._receive(*window.popleft())
                inbox = self._inboxes[block.index % len(self._inboxes)]
                inbox.put((self._through, *self._placed(block)))
                window.append((block.index, block.raw_position, block.xml_position))
        except InputFailed:
            while window:  # the blocks sent before the failure still count
                yield self._receive(*window.popleft())
            raise
        while window:
            yield self._receive(*window.popleft())

    def _placed(self, block: Block) -> tuple[Block, tuple[int, int] | None]:
        """The block to send, its bytes moved to its slot when they fit, and where they are.

        With ``n`` blocks in flight, block ``i`` takes slot ``i mod n``: the block that had it,
        ``i - n``, was received before block ``i`` was sent, so its process is done with it.
        """
        size = len(block.data)
        if size > self._slot_bytes:
            return block, None
        start = (block.index % self._in_flight) * self._slot_bytes
        self._slots[start : start + size] = block.data
        return replace(block, data=b""), (start, size)

    def commit(self, through: int) -> None:
        """Blocks up to ``through`` go out as final with the next message to each process."""
        self._through = through

    def close(self) -> list[list[Any]]:
        """Stop the processes after a last commit; return their parts' closings per sink.

        Raises:
            Exception: The first failure a process reported while closing.

        """
        closings: list[list[Any]] = [[] for _ in range(self._sinks)]
        failure: BaseException | None = None
        for worker, inbox in enumerate(self._inboxes):
            if self._running[worker]:
                inbox.put((self._through, None, None))
        for worker in range(len(self._processes)):
            while self._running[worker]:
                try:
                    message = self._get(worker)
                except RuntimeError as exc:
                    failure = failure or exc
                    break
                if message[0] == "closed":
                    self._running[worker] = False
                    for per_sink, closing in zip(closings, message[1], strict=True):
                        per_sink.append(closing)
                elif message[0] == "failed":
                    self._running[worker] = False
                    failure = failure or message[1]
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join()
        for inbox in self._inboxes:
            # Blocks left for a process that failed must not hold this one at exit.
            inbox.cancel_join_thread()
            inbox.close()
        self._slots.close()
        if failure is not None:
            raise failure
        return closings

    def _receive(self, index: int, raw_position: int, xml_position: int) -> Outcome:
        worker = index % len(self._processes)
        message = self._get(worker)
        if message[0] == "failed":
            self._running[worker] = False
            raise message[1]
        _, result, receipts = message
        return Outcome(result, receipts, raw_position, xml_position)

    def _get(self, worker: int) -> tuple:
        outbox = self._outboxes[worker]
        process = self._processes[worker]
        while True:
            try:
                return outbox.get(timeout=_POLL_S)
            except queue.Empty:
                if process.is_alive():
                    continue
            try:
                return outbox.get(timeout=_POLL_S)
            except queue.Empty:
                self._running[worker] = False
                raise RuntimeError(
                    f"parser process {process.name} ended with exit {process.exitcode}"
                ) from None


def _work(
    sinks: Sequence[Sink],
    inbox: multiprocessing.Queue,
    outbox: multiprocessing.Queue,
    parent: int,
    slots: mmap.mmap,
) -> None:
    """A parser process: parse the blocks sent, run the sinks' parts, answer in order."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        parts: list[SinkPart] = [sink.open() for sink in sinks]
        while True:
            through, block, placed = _next(inbox, parent)
            for part in parts:
                part.commit(through)
            if block is None:
                break
            if placed is not None:
                start, size = placed
                block = replace(block, data=slots[start : start + size])
            result = parse_block(block)
            receipts = [part.write(block.index, result.releases) for part in parts]
            result.releases = []
            outbox.put(("block", result, receipts))
        outbox.put(("closed", [part.close() for part in parts]))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        outbox.put(("failed", _portable(exc)))


def _next(
    inbox: multiprocessing.Queue, parent: int
) -> tuple[int, Block | None, tuple[int, int] | None]:
    """The next message; ends this process when its parent is gone (killed, say)."""
    while True:
        try:
            return inbox.get(timeout=_POLL_S)
        except queue.Empty:
            if os.getppid() != parent:
                os._exit(1)


def _portable(exc: Exception) -> Exception:
    """The exception itself when it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any pickling failure
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
