"""The generator process: the same events as drawing in-process, paced by a token bucket."""

import os
import re
import signal
import time

import pytest

from kafka_producers.demo_catalog import demo_catalog
from kafka_producers.generator_process import GeneratorProcess, TokenBucket, chunk_size_for
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


def test_a_new_bucket_is_full(clock: Clock) -> None:
    bucket = TokenBucket(rate=100.0, capacity=50.0, clock=clock)
    assert bucket.delay(50) == 0.0
    assert bucket.delay(1) == pytest.approx(0.01)


def test_an_empty_bucket_asks_for_n_over_rate_seconds(clock: Clock) -> None:
    bucket = TokenBucket(rate=200.0, capacity=100.0, clock=clock)
    assert bucket.delay(100) == 0.0
    assert bucket.delay(40) == pytest.approx(0.2)
    assert bucket.delay(100) == pytest.approx(0.5)


def test_tokens_refill_with_time_up_to_the_capacity(clock: Clock) -> None:
    bucket = TokenBucket(rate=100.0, capacity=50.0, clock=clock)
    assert bucket.delay(50) == 0.0
    clock.now += 0.2
    assert bucket.delay(30) == pytest.approx(0.1)
    assert bucket.delay(20) == 0.0
    clock.now += 60.0
    assert bucket.delay(50) == 0.0
    assert bucket.delay(10) == pytest.approx(0.1)


def test_asking_does_not_take_tokens(clock: Clock) -> None:
    bucket = TokenBucket(rate=10.0, capacity=10.0, clock=clock)
    assert bucket.delay(10) == 0.0
    assert bucket.delay(5) == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.delay(5) == 0.0


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
    assert time.monotonic() - start >= 0.15  # the first 200 at once, 300 more at 2 000/s


class Failing(EventStream):
    """A stream whose draws fail, as a bug in the generator would."""

    def draw(self, n: int, now_ms: int, span_ms: float = 0.0) -> ProfileDraws | EventDraws:
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
