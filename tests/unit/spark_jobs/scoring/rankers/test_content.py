import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.content import ContentBased, decade_matrix, unit_rows
from tests.unit.spark_jobs.scoring.rankers.worlds import content, train_data

# Items 0-2 by artist 0 (item 2 owned by nobody), items 3-5 by artist 1, all genre 0;
# user 0 owns items 0 and 1, users 1-3 own the artist-1 items.
OWNED = {0: [0, 1], 1: [3, 4, 5], 2: [3, 4], 3: [4, 5]}
ITEM_CONTENT = content(
    [[0]] * 6, artists=[[0], [0], [0], [1], [1], [1]], decades=[197, 197, 198, 199, 199, -1]
)


def fitted(activity=None) -> ContentBased:
    ranker = ContentBased()
    ranker.fit(train_data(OWNED, (5, 6), item_content=ITEM_CONTENT, activity=activity))
    return ranker


def test_an_unowned_release_of_the_favourite_artist_comes_first():
    ids, scores = fitted().recommend(np.array([0]), 3)
    assert ids[0, 0] == 2
    assert scores[0, 0] > 2 * scores[0, 1]


def test_the_popularity_prior_orders_equal_matches():
    ranker = ContentBased(artist=0.0, decade=0.0)
    ranker.fit(train_data(OWNED, (5, 6), item_content=ITEM_CONTENT))
    ids, scores = ranker.recommend(np.array([0]), 4)
    # same genre everywhere: owners 3 (item 4), 2 (items 3, 5), 0 (item 2)
    assert ids.tolist() == [[4, 3, 5, 2]]
    np.testing.assert_allclose(scores[0, 0] / scores[0, 3], 4**0.3, rtol=1e-5)


def test_a_user_without_items_is_profiled_from_activity():
    activity = sp.csr_matrix(([2.0], ([4], [3])), shape=(5, 6))
    ids, _ = fitted(activity).recommend(np.array([4]), 2)
    assert ids.tolist() == [[4, 3]], "viewed is not owned: item 3 itself may be listed"
    nothing, _ = fitted().recommend(np.array([4]), 2)
    assert nothing.tolist() == [[-1, -1]]


def test_decade_matrix_spreads_to_neighbouring_decades():
    m = decade_matrix(np.array([197, 199, -1]), 0.5).toarray()
    assert m.tolist() == [[1, 0.5, 0], [0, 0.5, 1], [0, 0, 0]]


def test_unit_rows():
    m = unit_rows(sp.csr_matrix(np.array([[3.0, 4.0], [0.0, 0.0]]))).toarray()
    np.testing.assert_allclose(m, [[0.6, 0.8], [0, 0]])


def test_activity_joins_the_profile_at_its_weight():
    activity = sp.csr_matrix(([1.0], ([0], [3])), shape=(5, 6))
    train = train_data(OWNED, (5, 6), item_content=ITEM_CONTENT, activity=activity)
    lists = {}
    for weight in (0.0, 1.0, 10.0):
        ranker = ContentBased(activity_weight=weight)
        ranker.fit(train)
        lists[weight] = ranker.recommend(np.array([0]), 6)[0][0].tolist()
    assert lists[0.0][0] == 2, "without weight the owned artist's release comes first"
    assert lists[10.0][0] in (3, 4, 5), "a heavy view of artist 1 turns the profile to them"
    assert lists[1.0].index(4) < lists[0.0].index(4)
