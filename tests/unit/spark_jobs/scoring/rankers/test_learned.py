import numpy as np
import pytest
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import TrainData
from spark_jobs.scoring.rankers.content import ContentBased
from spark_jobs.scoring.rankers.learned import (
    ABSENT_RANK,
    CandidateTable,
    candidate_table,
    holdout_split,
    learn_ranker,
    score_sum,
    top_candidates,
)
from spark_jobs.scoring.rankers.popular import MostPopular
from tests.unit.spark_jobs.scoring.rankers.worlds import DAY, train_data, two_groups

NAN = np.nan
# One user owning item 1; owners of items 0-3: [2, 1, 0, 1].
TRAIN = train_data({0: [1], 1: [0, 3], 2: [0]}, (3, 4))
LISTS = {
    "a": (np.array([[2, 0, -1]]), np.array([[4.0, 2.0, NAN]])),
    "b": (np.array([[0, 3, -1]]), np.array([[1.0, 0.5, NAN]])),
}


def table():
    return candidate_table(LISTS, TRAIN.user_items[[0]], TRAIN)


def test_candidates_are_the_union_of_the_lists_with_scores_over_the_best_and_ranks():
    t = table()
    assert t.positions.tolist() == [0, 0, 0] and t.items.tolist() == [0, 2, 3]
    assert t.column("a_score").tolist() == [0.5, 1.0, 0.0]
    assert t.column("a_rank").tolist() == [2, 1, ABSENT_RANK]
    assert t.column("b_score").tolist() == [1.0, 0.0, 0.5]
    assert t.column("b_rank").tolist() == [1, ABSENT_RANK, 2]
    np.testing.assert_allclose(t.column("popularity"), np.log1p([2, 0, 1]))
    np.testing.assert_allclose(t.column("size"), np.log1p([1, 1, 1]))


def test_the_fallback_sums_the_source_scores():
    np.testing.assert_allclose(score_sum(table(), ["a", "b"]), [1.5, 1.0, 0.5])


def test_top_candidates_orders_each_user_and_scores_relative_to_the_best():
    t = table()
    ids, scores = top_candidates(t, np.array([0.0, 2.0, 1.0]), n_users=2, depth=2)
    assert ids.tolist() == [[2, 3], [-1, -1]]
    np.testing.assert_allclose(scores[0], [1.0, np.exp(-1.0)])
    assert np.isnan(scores[1]).all()


def test_top_candidates_breaks_ties_by_the_lower_item_within_each_user():
    positions = np.array([0, 0, 0, 0, 2, 2, 2])
    items = np.array([1, 4, 6, 9, 0, 3, 5])
    scores = np.array([1.0, 3.0, 1.0, 3.0, 2.0, 7.0, 2.0])
    t = CandidateTable(positions, items, np.zeros((7, 0), np.float32), ())
    ids, values = top_candidates(t, scores, n_users=3, depth=3)
    assert ids.tolist() == [[4, 9, 1], [-1, -1, -1], [3, 0, 5]]
    np.testing.assert_allclose(values[2], [1.0, np.exp(-5.0), np.exp(-5.0)])


def test_a_model_is_learnt_from_the_validation_split():
    train = two_groups()
    model = learn_ranker(lambda: [MostPopular(), ContentBased()], train, depth=12)
    assert model is not None
    assert "content_artist" in model.feature_name()


def test_without_held_out_users_there_is_no_model():
    tiny = train_data({0: [0], 1: [1]}, (2, 3))
    assert learn_ranker(lambda: [MostPopular()], tiny, depth=3) is None


@pytest.mark.parametrize("user_items", [None, sp.csr_matrix((1, 4))])
def test_a_table_of_no_candidates_is_empty(user_items):
    empty = {"a": (np.full((1, 3), -1), np.full((1, 3), NAN))}
    rows = TRAIN.user_items[[0]] if user_items is None else user_items
    t = candidate_table(empty, rows, TRAIN)
    assert t.features.shape == (0, len(t.names))


def test_the_validation_split_cuts_the_activity_at_each_users_first_held_out_add():
    # user 0 adds items 0..4 on days 1..5 (item 4 is held out); its play of item 4 on day 6
    # follows that add, its view of item 5 on day 2 precedes it.
    train = train_data({0: [0, 1, 2, 3, 4]}, (1, 6))
    activity = sp.csr_matrix(np.array([[0, 0, 0, 0, 1, 1]], dtype=np.float32))
    first = sp.csr_matrix(np.array([[0, 0, 0, 0, 6 * DAY, 2 * DAY]]))
    with_activity = TrainData(train.user_items, train.added_at, train.now, None, activity, first)
    fitted, split = holdout_split(with_activity)
    assert split.test.indices.tolist() == [4]
    assert fitted.activity is not None and fitted.activity.indices.tolist() == [5]
