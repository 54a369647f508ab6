import numpy as np
import pytest
import scipy.sparse as sp

from spark_jobs.scoring.rankers.calibration import (
    calibrate,
    distribution,
    genre_distribution,
    kl_divergence,
)

# Items 0-3 are genre 0, items 4-5 genre 1, item 6 half and half.
GENRES = sp.csr_matrix(np.array([[1, 0]] * 4 + [[0, 1]] * 2 + [[0.5, 0.5]], dtype=np.float32))


def test_kl_divergence_by_hand():
    p = np.array([0.5, 0.5])
    q = np.array([1.0, 0.0])
    alpha = 0.1
    q_tilde = np.array([0.95, 0.05])
    expected = 0.5 * np.log(0.5 / 0.95) + 0.5 * np.log(0.5 / 0.05)
    assert kl_divergence(p, q, alpha) == pytest.approx(expected)
    assert kl_divergence(p, p, alpha) == pytest.approx(0.0)
    assert kl_divergence(np.array([1.0, 0.0]), q_tilde, 0.0) == pytest.approx(-np.log(0.95))


def test_genre_distribution_of_a_users_items():
    rows = sp.csr_matrix(np.array([[1, 0, 0, 0, 1, 0, 1], [0] * 7], dtype=np.float32))
    np.testing.assert_allclose(genre_distribution(rows, GENRES), [[0.5, 0.5], [0.0, 0.0]])
    np.testing.assert_allclose(distribution(np.array([[1.0, 3.0]])), [[0.25, 0.75]])


def test_lambda_zero_keeps_the_top_n():
    candidates = np.array([[0, 1, 2, 4, 5], [4, 6, 0, -1, -1]])
    scores = np.array([[5, 4, 3, 2, 1], [3, 2, 1, np.nan, np.nan]], dtype=np.float32)
    p = np.array([[0.5, 0.5], [1.0, 0.0]])
    ids, values = calibrate(candidates, scores, p, GENRES, 4, lam=0.0)
    assert ids.tolist() == [[0, 1, 2, 4], [4, 6, 0, -1]]
    np.testing.assert_array_equal(values[0], scores[0, :4])
    assert np.isnan(values[1, 3])


def test_a_positive_lambda_swaps_in_the_under_represented_genre():
    candidates = np.array([[0, 1, 2, 3, 4, 5]])
    scores = np.array([[1.0, 0.99, 0.98, 0.97, 0.5, 0.4]], dtype=np.float32)
    p = np.array([[0.5, 0.5]])
    top, _ = calibrate(candidates, scores, p, GENRES, 4, lam=0.0)
    assert set(top[0].tolist()) == {0, 1, 2, 3}
    ids, values = calibrate(candidates, scores, p, GENRES, 4, lam=0.5)
    # after item 0, item 4 makes the list 50/50 (KL 0) where item 1 leaves genre 1 out
    # (KL 1.96): 0.5 * 1.5 > 0.5 * 1.99 - 0.5 * 1.96. Once balanced, score wins again: the
    # greedy picks 0, 4, 1, 2, and the picked items are listed by score.
    assert ids.tolist() == [[0, 1, 2, 4]]
    np.testing.assert_allclose(values, [[1.0, 0.99, 0.98, 0.5]])


def test_no_user_calibrates_to_empty_lists():
    none = np.empty((0, 5), dtype=np.int64)
    ids, values = calibrate(none, none.astype(np.float32), np.empty((0, 2)), GENRES, 3, lam=0.5)
    assert ids.shape == values.shape == (0, 3)


def test_each_greedy_step_takes_the_best_objective_by_kl_divergence():
    # the objective (1 - lam) * score sum - lam * KL(p || q~), step by step, by the definition
    rng = np.random.default_rng(5)
    genres = rng.random((40, 4)) * (rng.random((40, 4)) < 0.5)
    genres[:3] = 0.0  # items with no genre
    candidates = np.array([rng.choice(40, 12, replace=False) for _ in range(6)])
    scores = np.sort(rng.random((6, 12)), axis=1)[:, ::-1]
    p = rng.random((6, 4)) * (rng.random((6, 4)) < 0.7)
    p[0] = 0.0  # a user with no genres
    p = distribution(p)
    lam, n = 0.4, 5
    ids, _ = calibrate(candidates, scores, p, genres, n, lam)
    for user in range(6):
        chosen: list[int] = []
        for _ in range(n):
            best, best_value = -1, -np.inf
            for place in range(candidates.shape[1]):
                if place in chosen:
                    continue
                listed = [*chosen, place]
                q = distribution(genres[candidates[user, listed]].sum(axis=0))
                value = (1 - lam) * scores[user, listed].sum() / scores[user].max() - lam * (
                    kl_divergence(p[user], q)
                )
                if value > best_value:
                    best, best_value = place, value
            chosen.append(best)
        assert set(ids[user].tolist()) == set(candidates[user, chosen].tolist())
