"""Draw an :class:`EventStream`'s events in a child process, at the set rate.

Generating an event costs about as much CPU as handing one to confluent-kafka, so the producer
splits the work over two cores: a forked child makes every draw and keeps the state
(:meth:`EventStream.draw`: users, actions, releases, what each user owns), paced by a
:class:`Timetable` and stamped with the time each event fell due, and sends the draws, a few
numpy arrays per chunk, through a one-way pipe; the sending process formats them
(:meth:`EventStream.encode`, on its own copy of the stream, whose malformed-event generator
advances only there) and hands them to Kafka. While the sender keeps up, a chunk is handed over
as soon as it is drawn; when it falls behind, the child runs ahead by at most a full pipe
(:data:`PIPE_BYTES`: ~6 chunks at full speed, ~1 s of events at 10K/s) and then waits, and the
events that fall due meanwhile follow as fast as the sender takes them, so the latency a load
test measures includes every wait.

The child ignores SIGINT and SIGTERM: the sending process decides when to stop, then kills it
(it writes nothing anywhere else, so a kill loses nothing). When the sending process dies first,
the child's next send fails on the closed pipe and it exits. The child draws from its own copy of
the stream, so the caller's :class:`EventStream` keeps its draw state (only its malformed-event
generator advances, as it encodes).
"""

from __future__ import annotations

import fcntl
import multiprocessing
import signal
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import TracebackType

from kafka_producers.synthetic import Chunk, EventDraws, EventStream, ProfileDraws

MAX_CHUNK = 2000
"""Largest number of events generated and handed to the producer at once."""
CHUNK_SECONDS = 0.05
"""With a rate limit, a chunk holds about this many seconds of events."""
PIPE_BYTES = 1 << 20
"""Pipe buffer between the processes (Linux's default ceiling for unprivileged users)."""
_DONE = "done"
_FAILED = "failed"


class Timetable:
    """Events/s pacing by a fixed timetable: event ``k`` falls due ``k / rate`` s after the start.

    A stall (a busy box, a full pipe, a broker restart behind the sender) loses no events: the
    ones that fell due meanwhile are taken at once afterwards, so the load offered over a run is
    the rate asked for (no coordinated omission). Each event is stamped with the time it fell due,
    so a producer that lags shows in the latency a load test measures.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        """Start the timetable now.

        Args:
            rate: Events per second.
            clock: Seconds on a monotonic clock.

        """
        self.rate = rate
        self.taken = 0
        self._clock = clock
        self._start = clock()
        self._start_wall_ms = time.time() * 1000.0

    def delay(self, n: int) -> float:
        """Return the seconds to wait until the next ``n`` events have all fallen due (0: now)."""
        return max(0.0, self._start + (self.taken + n - 1) / self.rate - self._clock())

    def next_due_ms(self) -> int:
        """Return the epoch ms at which the next event to take falls due."""
        return int(self._start_wall_ms + 1000.0 * self.taken / self.rate)

    def take(self, n: int) -> None:
        """Take the next ``n`` events."""
        self.taken += n


def chunk_size_for(rate: float) -> int:
    """Return the chunk size used at a given rate (``0`` = unlimited)."""
    if rate <= 0:
        return MAX_CHUNK
    return max(1, min(MAX_CHUNK, int(rate * CHUNK_SECONDS)))


class GeneratorProcess:
    """A forked child that draws a stream's chunks at a rate; take them with :meth:`receive`.

    Use as a context manager: entering forks the child, leaving kills it.

    Attributes:
        chunk_size: Events per chunk (fewer in the profile chunks and the last one).
        done: Every chunk of a ``max_events`` run has been received.

    """

    def __init__(self, stream: EventStream, *, rate: float, max_events: int | None) -> None:
        """Describe the child; nothing starts before ``__enter__``.

        Args:
            stream: The events to draw (the child draws from its own copy; this one encodes).
            rate: Events per second; ``0`` draws as fast as the sender takes them.
            max_events: Draw this many events, then end (``None``: no end).

        """
        self._stream = stream
        self._rate = rate
        self._max_events = max_events
        self.chunk_size = chunk_size_for(rate)
        self.done = False
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None

    def __enter__(self) -> GeneratorProcess:
        """Fork the child; call before the Kafka producer exists (its threads must not fork)."""
        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        # A chunk's draws (~170 KB) then go in one write: the child does not wait for a reader.
        fcntl.fcntl(sender.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self._process = context.Process(
            target=_generate,
            args=(self._stream, sender, receiver, self._rate, self.chunk_size, self._max_events),
            name="discorecs-generator",
            daemon=True,
        )
        self._process.start()
        sender.close()
        self._connection = receiver
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Kill the child and close the pipe."""
        if self._process is not None:
            self._process.kill()
            self._process.join()
            self._process.close()
        if self._connection is not None:
            self._connection.close()

    @property
    def pid(self) -> int | None:
        """Return the child's process id (``None`` before ``__enter__``)."""
        return None if self._process is None else self._process.pid

    def receive(self, timeout: float) -> Chunk | None:
        """Return the next chunk, or ``None`` when none came within ``timeout`` seconds or all did.

        Raises:
            RuntimeError: The child failed (its traceback is the message) or died.

        """
        assert self._connection is not None, "use GeneratorProcess as a context manager"
        if not self._connection.poll(timeout):
            return None
        try:
            message = self._connection.recv()
        except (EOFError, OSError):  # OSError: it died half-way through a message
            raise RuntimeError("the event generator process died") from None
        if isinstance(message, ProfileDraws | EventDraws):
            return self._stream.encode(message)
        status, detail = message
        if status == _DONE:
            self.done = True
            return None
        raise RuntimeError(f"the event generator process failed:\n{detail}")


def _generate(
    stream: EventStream,
    connection: Connection,
    parent_end: Connection,
    rate: float,
    chunk_size: int,
    max_events: int | None,
) -> None:
    """The child: draw chunks at the rate and send them until ``max_events`` or a closed pipe."""
    parent_end.close()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    timetable = Timetable(rate) if rate > 0 else None
    drawn = 0
    try:
        while max_events is None or drawn < max_events:
            n = chunk_size if max_events is None else min(chunk_size, max_events - drawn)
            if timetable is None:
                draws = stream.draw(n, time.time_ns() // 1_000_000)
            else:
                while (wait := timetable.delay(n)) > 0:
                    time.sleep(wait)
                draws = stream.draw(n, timetable.next_due_ms(), 1000.0 / rate)
                timetable.take(len(draws.ids))
            connection.send(draws)
            drawn += len(draws.ids)
        connection.send((_DONE, ""))
    except (BrokenPipeError, ConnectionResetError):
        return
    except Exception:  # noqa: BLE001 - handed to the sending process, which raises it
        connection.send((_FAILED, traceback.format_exc()))
