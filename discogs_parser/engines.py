"""Parse blocks and run the sinks' parts: in this process, or in a pool of parser processes.

:class:`PoolEngine` reads (and decompresses) the file in this process and hands the blocks to
N - 1 parser processes through bounded queues, parsing a block here whenever every queue is
full; the outcomes come back through one pipe per process, whose only writer is that process (so
a process killed half-way through an answer ends the read with an error instead of a hang), and
are merged back in file order, with a bounded number waiting, so memory stays flat. A block's
bytes travel through a slot of a shared anonymous mapping, not through the queue: pickling a
megabyte into a pipe and reading it back cost ~2 CPU-ms a block between the two sides, ~15 % of
parsing it. Every process opens its own part of every sink (a Cassandra session for the
loader), so parsing and storing use every core. Commits reach the parts here at once, the
processes' parts with the next block sent, and a final one with the stop.
"""

from __future__ import annotations

import contextlib
import mmap
import multiprocessing
import multiprocessing.process
import os
import pickle
import queue
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from typing import Any, Protocol

from discogs_parser.parser import BLOCK_BYTES, BlockResult, parse_block
from discogs_parser.sinks import Sink, SinkPart
from discogs_parser.source import Block, InputFailed

DEPTH = 3
"""Blocks queued per parser process."""
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
                if len(result.releases) >= self._left:
                    result.keep_first(self._left)  # what follows is never reached
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


class WorkerDied(RuntimeError):
    """A parser process ended without answering for every block sent to it."""


@dataclass(frozen=True)
class _Sent:
    """A block handed to a parser process: whose it is, its slot, where it was cut."""

    worker: int
    slot: int | None
    raw_position: int
    xml_position: int


class PoolEngine:
    """Parse here and in ``workers - 1`` parser processes while this process reads the file.

    Each block goes to a parser process with fewer than ``depth`` blocks queued, or is parsed
    here when every one has that many: this process parses in the time that reading leaves it,
    so ``workers`` processes keep ``workers`` cores busy. (A reading process beside ``workers``
    parser processes was one process too many: on two cores, 7 % slower than this.) At most
    ``(workers - 1) x depth`` blocks are queued and ``4x`` that many outcomes wait to be
    merged, so memory stays flat.

    Args:
        sinks: Where the releases go; each process (this one included) opens its own part.
        workers: Parser processes, this one included (at least 2).
        depth: Blocks queued per parser process.
        block_bytes: The bytes a block is cut at: a slot of the shared mapping holds twice
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
        if workers < 2:
            raise ValueError(f"a pool needs at least 2 workers, not {workers}")
        context = multiprocessing.get_context("fork")
        children = workers - 1
        self._sinks = len(sinks)
        self._depth = depth
        self._queued = [0] * children
        self._turn = 0
        self._through = -1
        self._slot_bytes = 2 * block_bytes
        # One slot per block that can be queued. Anonymous and shared: the forked processes
        # see what this one writes, and nothing is left behind on any exit.
        self._slots = mmap.mmap(-1, children * depth * self._slot_bytes)
        self._free_slots = deque(range(children * depth))
        self._most_waiting = 4 * children * depth
        self._inboxes = [context.Queue(depth + 1) for _ in range(children)]
        self._outboxes: list[Connection] = []
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._running = [True] * children
        # A forked child flushes the standard streams it inherited when it ends.
        sys.stdout.flush()
        sys.stderr.flush()
        for i, inbox in enumerate(self._inboxes):
            outbox, answers = context.Pipe(duplex=False)
            process = context.Process(
                target=_work,
                args=(sinks, inbox, answers, os.getpid(), self._slots),
                name=f"discogs-parser-{i}",
                daemon=True,
            )
            process.start()
            # Closed here before the next fork: the child is the pipe's only writer, so its
            # death (even half-way through an answer) is an end of file for this process.
            answers.close()
            self._outboxes.append(outbox)
            self._processes.append(process)
        try:
            # Opened after the fork: a driver session's threads and sockets must not be forked.
            self._here = InlineEngine(sinks)
        except BaseException:
            self._close_processes()
            raise

    def outcomes(self, blocks: Iterable[Block]) -> Iterator[Outcome]:
        """Hand each block out or parse it here, yielding outcomes in file order (see Engine)."""
        window: deque[Outcome | _Sent] = deque()
        try:
            for block in blocks:
                while window and self._ready(window[0]):
                    yield self._take(window.popleft())
                worker = self._idle_worker()
                if worker is None:
                    window.extend(self._here.outcomes([block]))
                else:
                    window.append(self._send(worker, block))
                while len(window) > self._most_waiting:
                    yield self._take(window.popleft())
        except InputFailed:
            while window:  # the blocks read before the failure still count
                yield self._take(window.popleft())
            raise
        while window:
            yield self._take(window.popleft())

    def _idle_worker(self) -> int | None:
        """The next parser process, in turn, with room for a block; None when all are full."""
        workers = len(self._queued)
        for step in range(workers):
            worker = (self._turn + step) % workers
            if self._queued[worker] < self._depth:
                self._turn = worker + 1
                return worker
        return None

    def _send(self, worker: int, block: Block) -> _Sent:
        """Queue the block for ``worker``, its bytes in a free slot when they fit."""
        size = len(block.data)
        slot = self._free_slots.popleft() if size <= self._slot_bytes else None
        placed = None
        if slot is not None:
            start = slot * self._slot_bytes
            self._slots[start : start + size] = block.data
            block, placed = replace(block, data=b""), (start, size)
        self._inboxes[worker].put((self._through, block, placed))
        self._queued[worker] += 1
        return _Sent(worker, slot, block.raw_position, block.xml_position)

    def _ready(self, entry: Outcome | _Sent) -> bool:
        """The entry can be taken without waiting."""
        return isinstance(entry, Outcome) or self._outboxes[entry.worker].poll()

    def _take(self, entry: Outcome | _Sent) -> Outcome:
        """The entry's outcome: here already, or the answer of the process it was sent to."""
        if isinstance(entry, Outcome):
            return entry
        message = self._get(entry.worker)
        if message[0] == "failed":
            self._running[entry.worker] = False
            raise message[1]
        self._queued[entry.worker] -= 1
        if entry.slot is not None:
            self._free_slots.append(entry.slot)
        _, result, receipts = message
        return Outcome(result, receipts, entry.raw_position, entry.xml_position)

    def commit(self, through: int) -> None:
        """Store the blocks up to ``through`` here; the others learn it with their next message."""
        self._through = through
        self._here.commit(through)

    def close(self) -> list[list[Any]]:
        """Close the parts here, then stop the processes after a last commit.

        Returns:
            Per sink, the closings of its parts (this process's first).

        Raises:
            Exception: The first failure met while closing.

        """
        failure: BaseException | None = None
        try:
            closings = self._here.close()
        except Exception as exc:  # noqa: BLE001 - raised below, after the processes stop
            failure = exc
            closings = [[] for _ in range(self._sinks)]
        theirs, their_failure = self._close_processes()
        for per_sink, their_closings in zip(closings, theirs, strict=True):
            per_sink.extend(their_closings)
        failure = failure or their_failure
        if failure is not None:
            raise failure
        return closings

    def _close_processes(self) -> tuple[list[list[Any]], BaseException | None]:
        """Stop the processes after a last commit.

        Returns:
            Their parts' closings per sink, and the first failure one reported.

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
                except WorkerDied as exc:
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
        for outbox in self._outboxes:
            outbox.close()
        self._slots.close()
        return closings, failure

    def _get(self, worker: int) -> tuple:
        """The next answer of ``worker``.

        Raises:
            WorkerDied: The process ended without answering, or half-way through an answer.

        """
        outbox = self._outboxes[worker]
        process = self._processes[worker]
        while not outbox.poll(_POLL_S):
            # Polled once more after the death: a last answer may have come in between.
            if not process.is_alive() and not outbox.poll(_POLL_S):
                break
        else:
            try:
                return outbox.recv()
            except (EOFError, OSError):  # OSError: the end came half-way through an answer
                pass
        self._running[worker] = False
        process.join()
        raise WorkerDied(f"parser process {process.name} ended with exit {process.exitcode}")


def _work(
    sinks: Sequence[Sink],
    inbox: multiprocessing.Queue,
    outbox: Connection,
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
            outbox.send(("block", result, receipts))
        outbox.send(("closed", [part.close() for part in parts]))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        with contextlib.suppress(OSError):  # unless the parent is gone
            outbox.send(("failed", _portable(exc)))


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
