import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.trending import Trending
from tests.unit.spark_jobs.scoring.rankers.worlds import DAY, train_data

NOW = 100 * DAY


def world(activity=None):
    owned = {0: [0, 1], 1: [0, 1], 2: [0, 2], 3: [3]}
    times = {
        (0, 0): 1 * DAY,
        (0, 1): 2 * DAY,
        (1, 0): 3 * DAY,
        (1, 1): 4 * DAY,
        (2, 0): 5 * DAY,
        (2, 2): NOW - 1 * DAY,
        (3, 3): NOW,
    }
    train = train_data(owned, (5, 5), times=times, activity=activity)
    assert train.now == NOW
    return train


def test_recent_adds_first_then_owners():
    ranker = Trending(window_days=14)
    ranker.fit(world())
    ids, scores = ranker.recommend(np.array([4]), 5)
    assert ids.tolist() == [[2, 3, 0, 1, -1]]
    assert np.isnan(scores[0, 4])
    assert scores[0, :4].tolist() == [1, 1, 0, 0]


def test_a_wider_window_counts_older_adds():
    ranker = Trending(window_days=200)
    ranker.fit(world())
    assert ranker.recommend(np.array([4]), 2)[0].tolist() == [[0, 1]]


def test_activity_counts_with_its_weight():
    activity = sp.csr_matrix(([3.0, 1.0], ([4, 4], [4, 1])), shape=(5, 5))
    ranker = Trending(window_days=14, activity_weight=0.5)
    ranker.fit(world(activity))
    ids, scores = ranker.recommend(np.array([0]), 4)
    assert ids.tolist() == [[4, 2, 3, -1]]
    assert scores[0, :3].tolist() == [1.5, 1.0, 1.0]
