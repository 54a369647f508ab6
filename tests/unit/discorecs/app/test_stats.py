"""The Gini coefficient of how often each release was recommended."""

import numpy as np
import pytest

from discorecs.app.stats import gini


def test_all_equal_is_zero() -> None:
    assert gini(np.array([4, 4, 4, 4])) == pytest.approx(0.0)


@pytest.mark.parametrize("n", [2, 5, 100])
def test_one_holder_of_everything_among_n(n: int) -> None:
    counts = np.zeros(n)
    counts[n // 2] = 7
    assert gini(counts) == pytest.approx((n - 1) / n)


def test_empty_and_all_zero_are_zero() -> None:
    assert gini(np.array([])) == 0.0
    assert gini(np.zeros(3)) == 0.0


def test_known_value_and_order_does_not_matter() -> None:
    assert gini(np.array([1, 3])) == pytest.approx(0.25)
    assert gini(np.array([3, 1, 2])) == gini(np.array([1, 2, 3])) == pytest.approx(2 / 9)
