import numpy as np

from spark_jobs.scoring.rankers.popular import MostPopular, ranking_by
from tests.unit.spark_jobs.scoring.rankers.worlds import train_data


def test_ranking_by_keys_then_lower_row_and_only_known_items():
    assert ranking_by(np.array([1, 0, 3, 1])).tolist() == [2, 0, 3]
    assert ranking_by(np.array([0, 0, 1, 0]), np.array([2, 5, 1, 0])).tolist() == [2, 1, 0]


def test_most_popular_order_scores_and_exclusion():
    train = train_data({0: [0, 1], 1: [1, 2], 2: [1, 2], 3: [3]}, (5, 5))
    ranker = MostPopular()
    ranker.fit(train)
    ids, scores = ranker.recommend(np.array([4, 0]), 4)
    assert ids.tolist() == [[1, 2, 0, 3], [2, 3, -1, -1]]
    assert scores[0].tolist() == [3, 2, 1, 1]
