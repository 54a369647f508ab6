import numpy as np
import scipy.sparse as sp

from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.friends import TasteIndex
from spark_jobs.scoring.rankers.neighbours import NeighbourTopN
from tests.unit.spark_jobs.scoring.rankers.worlds import content, train_data

OWNED = {0: [0], 1: [0, 1, 2], 2: [1, 2], 3: [2, 4], 4: [4, 5], 5: [5]}
GENRES = [[0], [0], [0], [0], [1], [1]]


def fitted(activity: sp.csr_matrix | None = None) -> NeighbourTopN:
    ranker = NeighbourTopN(ScoringSettings(neighbours=2))
    ranker.fit(train_data(OWNED, (7, 6), item_content=content(GENRES), activity=activity))
    return ranker


def test_neighbours_items_by_summed_similarity_then_top_genre_then_overall():
    ids, scores = fitted().recommend(np.array([0]), 5)
    # neighbours 1 and 2 (same taste, similarity 1) both own items 1 and 2: score 2 each,
    # the lower row first; then genre 0's popular items (3 has no owner but is genre 0),
    # then the overall ones.
    assert ids.tolist() == [[1, 2, 3, 4, 5]]
    np.testing.assert_allclose(scores, [[2, 2, 0, 0, 0]])


def test_a_user_without_items_gets_neighbours_by_the_taste_of_their_activity():
    activity = sp.csr_matrix(([1.0], ([6], [4])), shape=(7, 6))
    ids, _ = fitted(activity).recommend(np.array([6]), 4)
    # item 4 (genre 1) gives user 6 a genre-1 taste: neighbours 4 and 5 own item 5 (score 2)
    # and item 4 (score 1); then the most owned overall
    assert ids.tolist() == [[5, 4, 2, 0]]
    without, _ = fitted().recommend(np.array([6]), 2)
    assert without.tolist() == [[2, 0]]


def test_given_tastes_and_index_are_used_instead_of_computed_ones():
    train = train_data(OWNED, (7, 6), item_content=content(GENRES))
    computed = fitted()
    taste = computed.tastes.taste
    given = NeighbourTopN(ScoringSettings(neighbours=2), taste, TasteIndex(taste))
    given.fit(train)
    users = np.arange(7)
    np.testing.assert_array_equal(given.recommend(users, 5)[0], computed.recommend(users, 5)[0])
    # a user who now likes genre 1 only gets genre 1's neighbours' items
    swapped = taste.copy()
    swapped[0] = taste[5]
    moved = NeighbourTopN(ScoringSettings(neighbours=2), swapped, TasteIndex(swapped))
    moved.fit(train)
    assert moved.recommend(np.array([0]), 1)[0].tolist() == [[5]]


def test_a_start_index_is_extended_as_a_copy_and_lists_as_a_new_one():
    train = train_data(OWNED, (7, 6), item_content=content(GENRES))
    computed = fitted()
    other = computed.tastes.taste.copy()
    other[3] = other[5]  # user 3's mixed taste is not in the start index
    start = TasteIndex(other).vectors
    assert start is not None and start.index.ntotal == 2
    extended = NeighbourTopN(ScoringSettings(neighbours=2), start=start)
    extended.fit(train)
    assert not extended.tastes.index.rebuilt
    vectors = extended.tastes.index.vectors
    assert vectors is not None and vectors.index.ntotal == 3
    assert start.index.ntotal == 2, "the start index is left as it was"
    users = np.arange(7)
    np.testing.assert_array_equal(extended.recommend(users, 5)[0], computed.recommend(users, 5)[0])
