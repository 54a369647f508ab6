import numpy as np
import pytest

from spark_jobs.scoring.rankers.itemknn import ItemKNN, weigh_users
from tests.unit.spark_jobs.scoring.rankers.worlds import matrix, train_data

# Users x items: u0 = {0, 1}, u1 = {0, 1, 2}, u2 = {1, 2}.
# Item columns: |x0| = sqrt 2, |x1| = sqrt 3, |x2| = sqrt 2; x0.x1 = 2, x0.x2 = 1, x1.x2 = 2.
TRAIN = train_data({0: [0, 1], 1: [0, 1, 2], 2: [1, 2]}, (4, 3))


def test_cosine_with_shrink_by_hand():
    ranker = ItemKNN(k=10, shrink=1.0)
    ranker.fit(TRAIN)
    s01 = 2 / (np.sqrt(6) + 1)
    s02 = 1 / (2 + 1)
    expected = np.array([[0, s01, s02], [s01, 0, s01], [s02, s01, 0]])
    np.testing.assert_allclose(ranker.similarity_t.toarray(), expected, rtol=1e-6)
    ids, scores = ranker.recommend(np.array([3]), 2, user_items=matrix({0: [0]}, (1, 3)))
    assert ids.tolist() == [[1, 2]]
    np.testing.assert_allclose(scores, [[s01, s02]], rtol=1e-6)


def test_each_item_keeps_its_k_nearest():
    ranker = ItemKNN(k=1, shrink=0.0)
    ranker.fit(TRAIN)
    # item 1's nearest: items 0 and 2 tie (2/sqrt 6), the lower row wins; item 2's: item 1.
    ids, scores = ranker.recommend(np.array([3]), 2, user_items=matrix({0: [0]}, (1, 3)))
    assert ids.tolist() == [[1, -1]]
    assert scores[0, 0] == pytest.approx(2 / np.sqrt(6))


def test_feature_weightings():
    items_users = matrix({0: [0, 1], 1: [0, 1, 2], 2: [1, 2]}, (3, 3)).T.tocsr()
    assert weigh_users(items_users, "none") is items_users
    tfidf = weigh_users(items_users, "tfidf").toarray()
    np.testing.assert_allclose(tfidf[0], [np.log(3 / 3), np.log(3 / 4), 0], rtol=1e-6)
    # 6 items; user 0 owns items 0-1, user 1 items 0-4, user 2 item 5; mean item length 8/6
    wide = matrix({0: [0, 1], 1: [0, 1, 2, 3, 4], 2: [5]}, (3, 6)).T.tocsr()
    bm25 = weigh_users(wide, "bm25").toarray()
    tf = 2.2 / (1.2 * (0.25 + 0.75 * 2 / (8 / 6)) + 1)
    assert bm25[0, 0] == pytest.approx(tf * np.log(6 / 3), rel=1e-6)
    assert bm25[0, 1] == 0.0, "a user owning every item but one carries no information"
