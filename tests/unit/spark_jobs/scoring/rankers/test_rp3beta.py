import numpy as np

from spark_jobs.scoring.rankers.rp3beta import RP3beta
from tests.unit.spark_jobs.scoring.rankers.worlds import matrix, train_data

OWNED = {0: [0, 1], 1: [0, 1, 2], 2: [1, 2], 3: [2, 3], 4: [3]}


def dense_rp3beta(x: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    p_ui = x / x.sum(axis=1, keepdims=True)
    p_iu = x.T / x.T.sum(axis=1, keepdims=True)
    w = (p_iu**alpha) @ (p_ui**alpha) / x.sum(axis=0) ** beta
    np.fill_diagonal(w, 0)
    return w


def test_matches_the_dense_formula():
    x = matrix(OWNED, (5, 4)).toarray()
    for alpha, beta in ((1.0, 0.6), (0.7, 0.3)):
        ranker = RP3beta(alpha=alpha, beta=beta, k=10)
        ranker.fit(train_data(OWNED, (5, 4)))
        np.testing.assert_allclose(
            ranker.similarity.toarray(), dense_rp3beta(x, alpha, beta), rtol=1e-5
        )


def test_by_hand_and_top_k_per_row():
    ranker = RP3beta(alpha=1.0, beta=0.0, k=1)
    ranker.fit(train_data(OWNED, (5, 4)))
    # from item 0 (users 0, 1): to item 1 = 1/2 * 1/2 + 1/2 * 1/3, to item 2 = 1/2 * 1/3
    w = ranker.similarity.toarray()
    np.testing.assert_allclose(w[0], [0, 5 / 12, 0, 0], rtol=1e-6)
    ids, scores = ranker.recommend(np.array([4]), 2, user_items=matrix({0: [0]}, (1, 4)))
    assert ids.tolist() == [[1, -1]]
