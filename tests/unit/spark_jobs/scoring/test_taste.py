"""Taste vectors: the L2-normalised genre mix of owned releases and recent activity."""

import numpy as np
import pytest
import scipy.sparse as sp

from discorecs.core.genres import GENRE_INDEX
from spark_jobs.scoring.taste import CREDIT_DISCOUNT, credit_repeats, has_taste, taste_vectors
from spark_jobs.scoring.weights import genre_weights

ROCK, JAZZ = GENRE_INDEX["Rock"], GENRE_INDEX["Jazz"]
CREDIT_DISCOUNT_OF_3 = 3.0**-CREDIT_DISCOUNT


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


def test_releases_sharing_an_artist_or_label_weigh_one_over_the_root_of_the_repeats() -> None:
    weights = np.stack([genre_weights(["Jazz"])] * 3 + [genre_weights(["Rock"])])
    # Credits: 0 = a label on releases 0-2, 1 = an artist on release 0 and 1, 2 = on release 3.
    credits = sp.csr_matrix((np.ones(6), ([0, 1, 2, 0, 1, 3], [0, 0, 0, 1, 1, 2])), shape=(4, 3))
    users, releases = np.array([0, 0, 0, 0, 1, 1]), np.array([0, 1, 2, 3, 0, 3])
    assert credit_repeats(users, releases, credits).tolist() == [3, 3, 3, 1, 1, 1]
    taste = taste_vectors(users, releases, weights, n_users=2, credits=credits)
    expected = np.zeros(15)
    expected[JAZZ], expected[ROCK] = 3 * CREDIT_DISCOUNT_OF_3, 1.0
    np.testing.assert_allclose(taste[0], expected / np.linalg.norm(expected), rtol=1e-6)
    expected[JAZZ] = 1.0
    np.testing.assert_allclose(taste[1], expected / np.linalg.norm(expected), rtol=1e-6)


def test_a_release_without_credits_counts_as_its_own() -> None:
    credits = sp.csr_matrix((2, 1))
    repeats = credit_repeats(np.array([0, 0]), np.array([0, 1]), credits)
    assert repeats.tolist() == [1, 1]
