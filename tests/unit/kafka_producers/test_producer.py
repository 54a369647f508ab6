"""The producer's rate control: a token bucket that starts full and refills at the rate."""

import pytest

from kafka_producers.producer import TokenBucket


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
