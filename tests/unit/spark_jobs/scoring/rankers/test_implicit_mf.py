import numpy as np

from spark_jobs.scoring.rankers.implicit_mf import BPR, IALS
from tests.unit.spark_jobs.scoring.rankers.worlds import GROUP_USERS, two_groups

TRAIN = two_groups()
USERS = np.arange(TRAIN.n_users)


def test_a_seed_gives_the_same_lists():
    for make in (lambda: IALS(factors=4, iterations=5), lambda: BPR(factors=4, iterations=20)):
        first, second = make(), make()
        first.fit(TRAIN)
        second.fit(TRAIN)
        np.testing.assert_array_equal(first.recommend(USERS, 5)[0], second.recommend(USERS, 5)[0])


def test_ials_recalculates_a_folded_in_user():
    ranker = IALS(factors=2, iterations=20)
    ranker.fit(TRAIN)
    other = TRAIN.user_items[[GROUP_USERS]]
    _, before = ranker.recommend(np.array([0]), 3)
    ids, after = ranker.recommend(np.array([0]), 3, user_items=other)
    assert (ids[0] >= 12).all()
    assert not np.allclose(before, after)


def test_lists_longer_than_the_unseen_items_are_padded():
    ranker = BPR(factors=4, iterations=5)
    ranker.fit(TRAIN)
    ids, scores = ranker.recommend(np.array([0]), 30)
    assert (ids[0, :18] >= 0).all() and (ids[0, 18:] == -1).all()
    assert np.isnan(scores[0, 18:]).all()
