"""The generator process: the same events as drawing in-process, paced by a timetable."""

import os
import re
import signal
import time

import pytest

from kafka_producers.demo_catalog import demo_catalog
from kafka_producers.generator_process import GeneratorProcess, Timetable, chunk_size_for
from kafka_producers.synthetic import Chunk, EventDraws, EventStream, ProfileDraws


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_the_first_event_is_due_at_the_start(clock: Clock) -> None:
    timetable = Timetable(rate=100.0, clock=clock)
    assert timetable.delay(1) == 0.0
    assert timetable.delay(50) == pytest.approx(0.49)


def test_events_fall_due_at_the_rate_and_are_stamped_when_due(clock: Clock) -> None:
    timetable = Timetable(rate=200.0, clock=clock)
    first_ms = timetable.next_due_ms()
    timetable.take(100)
    assert timetable.delay(40) == pytest.approx(0.695)
    clock.now += 0.695
    assert timetable.delay(40) == 0.0
    assert timetable.next_due_ms() - first_ms == 500
    timetable.take(40)
    assert timetable.next_due_ms() - first_ms == 700


def test_a_stall_loses_no_events(clock: Clock) -> None:
    timetable = Timetable(rate=100.0, clock=clock)
    timetable.take(10)
    clock.now += 60.0
    assert timetable.delay(5_991) == 0.0  # events 10 to 6 000 fell due during the stall
    timetable.take(5_991)
    assert timetable.delay(1) == pytest.approx(0.01)


def test_asking_does_not_take_events(clock: Clock) -> None:
    timetable = Timetable(rate=10.0, clock=clock)
    assert timetable.delay(1) == 0.0
    assert timetable.delay(6) == pytest.approx(0.5)
    clock.now += 0.5
    assert timetable.delay(6) == 0.0
    assert timetable.taken == 0


def test_chunks_are_a_chunk_of_events_per_50_ms_at_most_2000() -> None:
    assert [chunk_size_for(r) for r in (0, 10, 1000, 10_000, 100_000)] == [2000, 1, 50, 500, 2000]


def received(generator: GeneratorProcess) -> list[Chunk]:
    chunks = []
    while not generator.done:
        if (chunk := generator.receive(timeout=10.0)) is not None:
            chunks.append(chunk)
    return chunks


def without_times(value: bytes) -> bytes:
    """The message with its event time (the only field that follows the clock) blanked.

    A truncated malformed message may end inside the time, so the value runs to a quote or the end.
    """
    return re.sub(rb'"event_time":"[^"]*', b'"event_time":"<time>', value)


def test_the_child_draws_exactly_max_events_in_the_in_process_order() -> None:
    catalog = demo_catalog(3000, seed=2)
    with GeneratorProcess(
        EventStream(catalog, n_users=300, seed=5, bad_ratio=0.1), rate=0, max_events=5000
    ) as generator:
        chunks = received(generator)
    here = EventStream(catalog, n_users=300, seed=5, bad_ratio=0.1)
    expected = [here.next_chunk(len(c), 0) for c in chunks]
    assert sum(map(len, chunks)) == 5000
    assert [(c.topics, c.keys, c.bad) for c in chunks] == [
        (c.topics, c.keys, c.bad) for c in expected
    ]
    assert [without_times(v) for c in chunks for v in c.values] == [
        without_times(v) for c in expected for v in c.values
    ]


def test_the_rate_paces_the_draws() -> None:
    stream = EventStream(demo_catalog(1000, seed=2), n_users=10, seed=1)
    start = time.monotonic()
    with GeneratorProcess(stream, rate=2000, max_events=500) as generator:
        assert generator.chunk_size == 100
        chunks = received(generator)
    assert sum(map(len, chunks)) == 500
    assert time.monotonic() - start >= 0.2495  # the last chunk falls due with event 500


class Failing(EventStream):
    """A stream whose draws fail, as a bug in the generator would."""

    def draw(self, n: int, now_ms: int, interval_ms: float = 0.0) -> ProfileDraws | EventDraws:
        raise ValueError("no catalogue")


def test_a_failure_in_the_child_is_raised_with_its_traceback() -> None:
    stream = Failing(demo_catalog(1000, seed=2), n_users=10, seed=1)
    with GeneratorProcess(stream, rate=0, max_events=None) as generator:
        with pytest.raises(RuntimeError, match="ValueError: no catalogue"):
            received(generator)


def test_the_child_ignores_signals_and_dies_with_the_context() -> None:
    stream = EventStream(demo_catalog(1000, seed=2), n_users=10, seed=1)
    with GeneratorProcess(stream, rate=0, max_events=None) as generator:
        assert generator.receive(timeout=10.0) is not None
        pid = generator.pid
        assert pid is not None
        os.kill(pid, signal.SIGTERM)
        assert generator.receive(timeout=10.0) is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
