"""Genre percentiles: floor(100 * users strictly below / (users with a taste - 1))."""

import numpy as np

from discorecs.core.genres import GENRES
from spark_jobs.scoring.ranks import NO_RANK, drifted, genre_percentiles, ranks_map
from spark_jobs.scoring.taste import has_taste


def test_genre_percentiles_known_ranks() -> None:
    taste = np.zeros((5, 15), dtype=np.float32)
    taste[:4, 0] = [0.1, 0.5, 0.5, 0.9]
    taste[:4, 1] = 0.2
    ranks = genre_percentiles(taste, has_taste(taste))
    assert ranks.dtype == np.int16
    assert ranks[:4, 0].tolist() == [0, 33, 33, 100]
    assert ranks[:4, 1].tolist() == [0, 0, 0, 0]
    assert (ranks[4] == NO_RANK).all()


def test_a_single_user_with_taste_ranks_zero_and_nobody_ranks_nothing() -> None:
    taste = np.zeros((2, 15), dtype=np.float32)
    taste[0, 3] = 1.0
    ranks = genre_percentiles(taste, has_taste(taste))
    assert (ranks[0] == 0).all() and (ranks[1] == NO_RANK).all()
    assert (genre_percentiles(np.zeros((3, 15)), np.zeros(3, bool)) == NO_RANK).all()


def test_genre_percentiles_count_the_users_strictly_below_among_many_ties() -> None:
    rng = np.random.default_rng(3)
    taste = (rng.integers(0, 6, size=(300, 15)) / 5).astype(np.float32)
    taste[rng.random(300) < 0.1] = 0
    valid = has_taste(taste)
    values = taste[valid]
    below = (values[None, :, :] < values[:, None, :]).sum(axis=1)
    ranks = genre_percentiles(taste, valid)
    np.testing.assert_array_equal(ranks[valid], (100 * below) // (len(values) - 1))
    assert (ranks[~valid] == NO_RANK).all()


def test_ranks_map() -> None:
    row = np.arange(15, dtype=np.int16)
    assert ranks_map(row)[GENRES[14]] == 14
    assert len(ranks_map(row)) == 15
    assert ranks_map(np.full(15, NO_RANK, dtype=np.int16)) == {}


def test_drift_beyond_the_tolerance_or_a_rank_gained_or_lost_is_a_move() -> None:
    stored = np.array([[10, 50], [10, 50], [10, 50], [NO_RANK, 50]], dtype=np.int16)
    current = np.array([[11, 49], [12, 50], [NO_RANK, 50], [0, 50]], dtype=np.int16)
    assert drifted(stored, current, 1).tolist() == [False, True, True, True]
    assert drifted(stored, current, 0).tolist() == [True, True, True, True]
    assert drifted(stored, stored, 0).tolist() == [False] * 4
