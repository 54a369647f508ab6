import numpy as np
import pytest

from spark_jobs.scoring.rankers.ease import EASE, spd_inverse
from tests.unit.spark_jobs.scoring.rankers.worlds import matrix, train_data

OWNED = {0: [0, 1], 1: [0, 1, 2], 2: [1, 2], 3: [2, 3], 4: [3, 0], 5: [1]}


def test_closed_form_against_numpy_inverse():
    x = matrix(OWNED, (6, 4)).toarray()
    lam = 2.0
    p = np.linalg.inv(x.T @ x + lam * np.eye(4))
    b = np.eye(4) - p / np.diag(p)
    ranker = EASE(lam=lam)
    ranker.fit(train_data(OWNED, (6, 4)))
    np.testing.assert_allclose(ranker.weights, b, atol=1e-6)
    ids, scores = ranker.recommend(np.array([5]), 3)
    expected = x[5] @ b
    expected[1] = -np.inf
    order = [i for i in np.argsort(-expected) if expected[i] > 0][:3]
    listed = ids[0][: len(order)]
    # items 0 and 2 tie exactly (each shares two owners with item 1): float32 rounding orders them
    assert sorted(listed.tolist()) == sorted(order) and (ids[0][len(order) :] == -1).all()
    np.testing.assert_allclose(scores[0][: len(order)], expected[order], rtol=1e-5)
    np.testing.assert_allclose(scores[0][: len(order)], expected[listed], rtol=1e-5)


def test_only_the_most_owned_items_are_modelled():
    ranker = EASE(lam=1.0, max_items=2)
    ranker.fit(train_data(OWNED, (6, 4)))
    # owners: item 0: 3, item 1: 4, item 2: 3, item 3: 2 -> items 1 then 0 (lower row of the tie)
    assert ranker.items.tolist() == [0, 1]
    ids, _ = ranker.recommend(np.arange(6), 4)
    assert set(ids[ids >= 0].tolist()) <= {0, 1}


def test_nobody_owning_anything_lists_nothing():
    ranker = EASE(lam=1.0)
    ranker.fit(train_data({}, (2, 3)))
    ids, scores = ranker.recommend(np.arange(2), 4)
    assert ids.tolist() == [[-1] * 4] * 2 and np.isnan(scores).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_spd_inverse_is_the_inverse_in_the_matrix_precision(dtype):
    a = np.array([[4.0, 2.0, 0.5], [2.0, 3.0, 1.0], [0.5, 1.0, 2.0]], dtype=dtype)
    expected = np.linalg.inv(a.astype(np.float64))
    inverse = spd_inverse(a.copy())
    assert inverse.dtype == dtype
    np.testing.assert_allclose(inverse, expected, rtol=1e-5)
    np.testing.assert_array_equal(inverse, inverse.T)


def test_spd_inverse_refuses_a_matrix_that_is_not_positive_definite():
    with pytest.raises(ValueError, match="not positive definite"):
        spd_inverse(np.array([[1.0, 2.0], [2.0, 1.0]]))
