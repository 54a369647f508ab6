import numpy as np
import pytest

from discorecs.genres import GENRE_INDEX, GENRES
from spark_jobs.scoring.ranks import NO_RANK, genre_percentiles, ranks_map
from spark_jobs.scoring.taste import has_taste, taste_vectors
from spark_jobs.scoring.weights import genre_weight_matrix, genre_weights, style_weights


def test_genre_weights_split_one_over_k():
    w = genre_weights(["Rock", "Jazz", "Pop"])
    assert w.shape == (15,)
    for genre in ("Rock", "Jazz", "Pop"):
        assert w[GENRE_INDEX[genre]] == pytest.approx(1 / 3)
    assert w.sum() == pytest.approx(1.0)
    assert np.count_nonzero(w) == 3


def test_genre_weights_ignore_unknown_and_duplicates():
    assert genre_weights(["Rock", "Rock", "Polka"])[GENRE_INDEX["Rock"]] == pytest.approx(1.0)
    assert not genre_weights([]).any()
    assert not genre_weights(None).any()


def test_genre_weight_matrix_and_styles():
    m = genre_weight_matrix([["Electronic"], ["Blues", "Rock"], []])
    assert m[0, GENRE_INDEX["Electronic"]] == 1.0
    assert m[1, GENRE_INDEX["Blues"]] == pytest.approx(0.5)
    assert not m[2].any()
    assert style_weights(["House", "Techno", "House"]) == {"House": 0.5, "Techno": 0.5}
    assert style_weights(None) == {}


def test_taste_is_normalised_sum_and_empty_is_zero():
    weights = genre_weight_matrix([["Rock"], ["Rock", "Jazz"], ["Jazz"]])
    taste = taste_vectors(np.array([0, 0, 1]), np.array([0, 1, 2]), weights, n_users=3)
    rock, jazz = GENRE_INDEX["Rock"], GENRE_INDEX["Jazz"]
    expected = np.zeros(15)
    expected[rock], expected[jazz] = 1.5, 0.5
    np.testing.assert_allclose(taste[0], expected / np.linalg.norm(expected), rtol=1e-6)
    assert taste[1, jazz] == pytest.approx(1.0)
    assert not taste[2].any()
    assert has_taste(taste).tolist() == [True, True, False]


def test_genre_percentiles_known_ranks():
    taste = np.zeros((5, 15), dtype=np.float32)
    taste[:4, 0] = [0.1, 0.5, 0.5, 0.9]
    taste[:4, 1] = 0.2
    ranks = genre_percentiles(taste, has_taste(taste))
    assert ranks[:4, 0].tolist() == [0, 33, 33, 100]
    assert ranks[:4, 1].tolist() == [0, 0, 0, 0]
    assert (ranks[4] == NO_RANK).all()
    assert ranks_map(ranks[3])[GENRES[0]] == 100
    assert ranks_map(ranks[4]) == {}
