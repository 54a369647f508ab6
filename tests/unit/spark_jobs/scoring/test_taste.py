"""Taste vectors: the L2-normalised genre mix of owned releases and recent activity."""

import numpy as np
import pytest

from discorecs.core.genres import GENRE_INDEX
from spark_jobs.scoring.taste import ACTIVITY_WEIGHT, has_taste, taste_vectors
from spark_jobs.scoring.weights import genre_weights

ROCK, JAZZ = GENRE_INDEX["Rock"], GENRE_INDEX["Jazz"]


def test_taste_is_normalised_sum_and_empty_is_zero() -> None:
    weights = np.stack([genre_weights(g) for g in (["Rock"], ["Rock", "Jazz"], ["Jazz"])])
    taste = taste_vectors(np.array([0, 0, 1]), np.array([0, 1, 2]), weights, n_users=3)
    expected = np.zeros(15)
    expected[ROCK], expected[JAZZ] = 1.5, 0.5
    assert taste.dtype == np.float32 and taste.shape == (3, 15)
    np.testing.assert_allclose(taste[0], expected / np.linalg.norm(expected), rtol=1e-6)
    assert taste[1, JAZZ] == pytest.approx(1.0)
    assert not taste[2].any()
    assert has_taste(taste).tolist() == [True, True, False]


def test_releases_without_a_known_genre_give_no_taste() -> None:
    weights = np.stack([genre_weights([]), genre_weights(["Rock"])])
    taste = taste_vectors(np.array([0, 1, 1]), np.array([0, 0, 1]), weights, n_users=2)
    assert not taste[0].any()
    assert taste[1, ROCK] == pytest.approx(1.0)


def test_activity_adds_its_genre_sums_at_the_activity_weight() -> None:
    weights = np.stack([genre_weights(["Rock"])])
    activity = np.zeros((2, 15))
    activity[:, JAZZ] = 1.0
    taste = taste_vectors(np.array([0]), np.array([0]), weights, n_users=2, activity=activity)
    expected = np.zeros(15)
    expected[ROCK], expected[JAZZ] = 1.0, ACTIVITY_WEIGHT
    np.testing.assert_allclose(taste[0], expected / np.linalg.norm(expected), rtol=1e-6)
    assert taste[1, JAZZ] == pytest.approx(1.0)
