import numpy as np

from spark_jobs.scoring.rankers.friend_rule import FriendRule
from spark_jobs.scoring.recommend import Collections, most_owned_unowned
from tests.unit.spark_jobs.scoring.rankers.worlds import content, matrix, train_data

# Items 0-3 are genre 0, items 4-5 genre 1; users 0-2 taste only genre 0, 4-5 only genre 1.
OWNED = {0: [0], 1: [0, 1, 2], 2: [1, 2], 3: [2, 4], 4: [4, 5], 5: [5]}
GENRES = [[0], [0], [0], [0], [1], [1]]


def fitted() -> FriendRule:
    ranker = FriendRule()
    ranker.fit(train_data(OWNED, (6, 6), item_content=content(GENRES)))
    return ranker


def test_friends_items_by_owners_then_popular_padding():
    ranker = fitted()
    assert ranker.friend[0] == 1
    ids, scores = ranker.recommend(np.array([0]), 5)
    assert ids.tolist() == [[2, 1, 4, 5, -1]], "item 3 has no owner: never listed"
    assert (scores[0, :2] > 1).all() and (scores[0, 2:4] < 1).all()


def test_first_item_is_the_discorecs_friend_rule():
    ranker = fitted()
    owned = matrix(OWNED, (6, 6))
    collections = Collections(owned.indptr.astype(np.int64), owned.indices.astype(np.int64), 6)
    rule = most_owned_unowned(collections, ranker.friend, collections.popularity())
    ids, _ = ranker.recommend(np.arange(6), 1)
    has_rule = rule >= 0
    assert has_rule.sum() >= 3
    assert ids[has_rule, 0].tolist() == rule[has_rule].tolist()


def test_folding_in_changes_the_friend():
    ranker = fitted()
    ids, _ = ranker.recommend(np.array([0]), 1, user_items=matrix({0: [5]}, (1, 6)))
    assert ids.tolist() == [[4]], "now tastes genre 1: friend owns item 4"


def test_activity_joins_the_taste_the_friend_is_chosen_by():
    # user 3 owns one genre-0 item and two genre-1 items; plays of two genre-0 items tip them
    owned = {**OWNED, 3: [2, 4, 5]}
    items = content(GENRES)
    owning = FriendRule()
    owning.fit(train_data(owned, (6, 6), item_content=items))
    playing = FriendRule()
    activity = matrix({3: [0, 1]}, (6, 6))
    playing.fit(train_data(owned, (6, 6), item_content=items, activity=activity))
    assert owning.friend[3] in (4, 5)
    assert playing.friend[3] in (0, 1, 2)
