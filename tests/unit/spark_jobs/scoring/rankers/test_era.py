import math

import numpy as np
import pytest

from spark_jobs.scoring.rankers.era import EraModel, decade_slots


def test_decade_slots_span_the_known_decades_and_put_unknown_last():
    slots, n_slots = decade_slots(np.array([197, 199, -1]))
    assert slots.tolist() == [0, 2, 3]
    assert n_slots == 4


def test_without_known_decades_there_is_one_slot():
    slots, n_slots = decade_slots(np.array([-1, -1]))
    assert slots.tolist() == [0, 0]
    assert n_slots == 1


def two_decades() -> EraModel:
    return EraModel.fit(np.array([197, 198]), np.array([1.0, 1.0]), spreads=(1.0,), unknown=0.3)


def test_hypotheses_decay_with_distance_from_the_favourite():
    e = math.exp(-1)
    np.testing.assert_allclose(two_decades().affinities, [[1, e, 0.3], [e, 1, 0.3]])


def test_the_posterior_leans_to_the_decade_a_user_collects():
    e = math.exp(-1)
    # two items of the 1970s: likelihood 1 for favourite 1970s, e**-2 for 1980s (same Z, prior)
    weights = np.array([1.0, math.exp(-2)]) / (1 + math.exp(-2))
    expected = weights @ np.array([[1, e, 0.3], [e, 1, 0.3]])
    np.testing.assert_allclose(two_decades().affinity(np.array([[2.0, 0.0, 0.0]]))[0], expected)


def test_a_user_without_items_gets_the_prior_mean():
    e = math.exp(-1)
    prior = two_decades().affinity(np.zeros((1, 3)))[0]
    np.testing.assert_allclose(prior, [(1 + e) / 2, (1 + e) / 2, 0.3])


def test_the_prior_favours_the_popular_decade():
    model = EraModel.fit(np.array([197, 198]), np.array([3.0, 1.0]), spreads=(1.0,))
    prior = model.affinity(np.zeros((1, 3)))[0]
    assert prior[0] == pytest.approx((3 + math.exp(-1)) / 4)
