import math

import numpy as np
import pytest
import scipy.sparse as sp

from spark_jobs.scoring.rankers.metrics import (
    calibration_ckl,
    calibration_per_user,
    gini,
    gini_of_exposure,
    hit_rate_at_k,
    item_coverage_at_k,
    ndcg_at_k,
    ndcg_per_user,
    novelty,
    novelty_per_user,
    recall_at_k,
    recall_per_user,
)

RECS = np.array([[1, 2, 3, -1], [5, 6, 7, 8], [-1, -1, -1, -1]])
TEST = sp.csr_matrix(([1, 1, 1], ([0, 0, 1], [2, 9, 8])), shape=(3, 10))
L3 = 1 / math.log2(3)


def test_recall_divides_by_the_test_size():
    np.testing.assert_allclose(recall_per_user(RECS, TEST, k=3), [0.5, 0.0, np.nan])
    assert recall_at_k(RECS, TEST, k=3) == pytest.approx(0.25)
    assert recall_at_k(RECS, TEST, k=4) == pytest.approx(0.75)


def test_ndcg_by_hand():
    # user 0: hit at rank 2 of 3, two test items -> (1/log2 3) / (1 + 1/log2 3)
    # user 1: hit at rank 4, one test item -> (1/log2 5) / 1
    per_user = ndcg_per_user(RECS, TEST, k=4)
    np.testing.assert_allclose(per_user[:2], [L3 / (1 + L3), 1 / math.log2(5)])
    assert np.isnan(per_user[2])
    assert ndcg_at_k(RECS, TEST, k=3) == pytest.approx(L3 / (1 + L3) / 2)
    perfect = np.array([[9, 2, 0]])
    assert ndcg_at_k(perfect, TEST[:1], k=3) == pytest.approx(1.0)


def test_hit_rate():
    assert hit_rate_at_k(RECS, TEST, k=3) == pytest.approx(0.5)
    assert hit_rate_at_k(RECS, TEST, k=4) == pytest.approx(1.0)


def test_item_coverage():
    catalogue = np.arange(1, 10)
    assert item_coverage_at_k(RECS, catalogue, k=3) == pytest.approx(6 / 9)
    assert item_coverage_at_k(RECS, np.array([8, 9]), k=4) == pytest.approx(0.5)


def test_gini():
    assert gini(np.array([5, 5, 5, 5])) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 10])) == pytest.approx(0.75)
    assert gini(np.array([4, 1, 3, 2])) == pytest.approx(0.25)
    assert gini(np.zeros(3)) == 0.0
    assert gini_of_exposure(np.array([[0, 1], [0, -1]]), n_items=4, k=2) == pytest.approx(
        gini(np.array([2, 1, 0, 0]))
    )


def test_novelty_by_hand():
    # 4 users: item 1 owned twice (-log2 1/2 = 1), item 2 once (2), item 3 never (0.5 -> 3)
    train = sp.csr_matrix(([1, 1, 1], ([0, 1, 2], [1, 1, 2])), shape=(4, 10))
    per_user = novelty_per_user(RECS, train, k=3)
    assert per_user[0] == pytest.approx(2.0)
    assert np.isnan(per_user[2])
    assert novelty(RECS[:1], train, k=3) == pytest.approx(2.0)


def test_calibration_by_hand():
    genres = sp.csr_matrix(np.array([[1, 0]] * 5 + [[0, 1]] * 5, dtype=np.float32))
    history = sp.csr_matrix(([1, 1], ([0, 0], [0, 9])), shape=(3, 10))
    # user 0: p = (0.5, 0.5); listed 1, 2, 3 -> q = (1, 0), q~ = (0.995, 0.005)
    expected = 0.5 * math.log(0.5 / 0.995) + 0.5 * math.log(0.5 / 0.005)
    per_user = calibration_per_user(RECS, history, genres, alpha=0.01, k=3)
    assert per_user[0] == pytest.approx(expected)
    assert np.isnan(per_user[1]), "no history, no p"
    assert calibration_ckl(RECS, history, genres, k=3) == pytest.approx(expected)
    balanced = np.array([[1, 6]])
    assert calibration_ckl(balanced, history[:1], genres, k=2) == pytest.approx(0.0)
    empty = np.array([[-1, -1]])
    assert calibration_ckl(empty, history[:1], genres, k=2) == pytest.approx(math.log(100))
