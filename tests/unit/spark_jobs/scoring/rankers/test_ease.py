import numpy as np

from spark_jobs.scoring.rankers.ease import EASE
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
    assert ids[0][: len(order)].tolist() == order
    np.testing.assert_allclose(scores[0][: len(order)], expected[order], rtol=1e-5)


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
