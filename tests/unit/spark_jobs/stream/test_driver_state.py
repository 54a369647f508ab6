"""The durability barrier's wait (the writes are checked on the real cluster, integration)."""

import pytest

from spark_jobs.stream.driver_state import barrier_wait_s


@pytest.mark.parametrize(("block", "wait"), [(0.15, 0.18), (0.03, 0.04), (15.0, 18.0)])
def test_the_wait_is_a_fifth_more_than_the_lag_block(block: float, wait: float) -> None:
    assert barrier_wait_s(block) == pytest.approx(wait)
