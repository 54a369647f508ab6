import numpy as np
import pytest
import scipy.sparse as sp

from spark_jobs.scoring.rankers.content import (
    AFFINITY_FLOOR,
    ContentBased,
    decade_matrix,
    within_feature,
)
from tests.unit.spark_jobs.scoring.rankers.worlds import content, train_data

# Items 0-2 by artist 0 (item 2 owned by nobody), items 3-5 by artist 1, all genre 0;
# user 0 owns items 0 and 1, users 1-3 own the artist-1 items.
# Owners [1, 1, 0, 2, 3, 2], so popularity (owners + 1) is [2, 2, 1, 3, 4, 3], 15 in all.
OWNED = {0: [0, 1], 1: [3, 4, 5], 2: [3, 4], 3: [4, 5]}
ITEM_CONTENT = content(
    [[0]] * 6, artists=[[0], [0], [0], [1], [1], [1]], decades=[197, 197, 198, 199, 199, -1]
)
POPULARITY = np.array([2, 2, 1, 3, 4, 3]) / 15


def fitted(activity=None, **parameters) -> ContentBased:
    ranker = ContentBased(**parameters)
    ranker.fit(train_data(OWNED, (5, 6), item_content=ITEM_CONTENT, activity=activity))
    return ranker


def test_one_genre_lists_its_releases_by_popularity_over_the_genre_total():
    ids, scores = fitted(genre=1.0, artist=0.0, decade_power=0.0).recommend(np.array([0]), 4)
    assert ids.tolist() == [[4, 3, 5, 2]]
    np.testing.assert_allclose(scores[0], [4 / 15, 3 / 15, 3 / 15, 1 / 15], rtol=1e-6)


def test_an_unowned_release_of_the_favourite_artist_beats_the_genre_s_popular_ones():
    ids, scores = fitted(decade_power=0.0).recommend(np.array([0]), 2)
    assert ids[0, 0] == 2
    # genre 0.2 * 1/15 + artist 1.0 * (popularity 1 of artist 0's total 5)
    assert scores[0, 0] == pytest.approx(0.2 / 15 + 1 / 5)
    assert scores[0, 1] == pytest.approx(0.2 * 4 / 15)


def test_the_era_affinity_multiplies_the_mixture():
    ranker = fitted(genre=1.0, artist=0.0, decade_power=1.0, decade_spread=0.5)
    ids, scores = ranker.recommend(np.array([0]), 4)
    # user 0's decade rows: [1, .5, 0, 0] twice, shares [2/3, 1/3, 0, 0] over 197, 198, 199, ?
    affinity = {2: 2 / 3 * 0.5 + 1 / 3, 3: 1 / 3 * 0.5, 4: 1 / 3 * 0.5, 5: 0.0}
    expected = {i: POPULARITY[i] * (a + AFFINITY_FLOOR) for i, a in affinity.items()}
    listed = dict(zip(ids[0].tolist(), scores[0].tolist(), strict=True))
    assert listed == pytest.approx(expected, rel=1e-5)


def test_a_user_without_items_is_profiled_from_activity():
    activity = sp.csr_matrix(([2.0], ([4], [3])), shape=(5, 6))
    ids, _ = fitted(activity).recommend(np.array([4]), 2)
    assert ids.tolist() == [[4, 3]], "viewed is not owned: item 3 itself may be listed"
    nothing, _ = fitted().recommend(np.array([4]), 2)
    assert nothing.tolist() == [[-1, -1]]


def test_activity_joins_the_profile_at_its_weight():
    activity = sp.csr_matrix(([1.0], ([0], [3])), shape=(5, 6))
    lists = {}
    for weight in (0.0, 1.0, 10.0):
        ids, scores = fitted(activity, activity_weight=weight).recommend(np.array([0]), 4)
        lists[weight] = dict(zip(ids[0].tolist(), scores[0].tolist(), strict=True))
    assert next(iter(lists[0.0])) == 2, "without weight the owned artist's release comes first"
    assert next(iter(lists[10.0])) in (3, 4, 5), "a heavy view of artist 1 turns the profile"
    assert lists[0.0][4] < lists[1.0][4] < lists[10.0][4]


def test_decade_matrix_spreads_to_neighbouring_decades_and_keeps_unknown_apart():
    m = decade_matrix(np.array([197, 199, -1]), 0.5).toarray()
    assert m.tolist() == [[1, 0.5, 0, 0], [0, 0.5, 1, 0], [0, 0, 0, 1]]


def test_within_feature_is_popularity_over_the_feature_total():
    features = sp.csr_matrix(np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 2.0]]))
    m = within_feature(features, np.array([1.0, 3.0, 4.0])).toarray()
    np.testing.assert_allclose(m, [[0.25, 0.75, 0], [0, 3 / 7, 4 / 7]], rtol=1e-6)
