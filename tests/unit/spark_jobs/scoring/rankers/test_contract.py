"""The contract every ranker keeps, checked on the same two-group world (like implicit's
``RecommenderBaseTestMixin``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import Ranker
from spark_jobs.scoring.rankers.content import ContentBased
from spark_jobs.scoring.rankers.ease import EASE
from spark_jobs.scoring.rankers.friend_rule import FriendRule
from spark_jobs.scoring.rankers.implicit_mf import BPR, IALS
from spark_jobs.scoring.rankers.itemknn import ItemKNN
from spark_jobs.scoring.rankers.neighbours import NeighbourTopN
from spark_jobs.scoring.rankers.popular import MostPopular
from spark_jobs.scoring.rankers.rp3beta import RP3beta
from spark_jobs.scoring.rankers.trending import Trending
from tests.unit.spark_jobs.scoring.rankers.worlds import GROUP_USERS, group_items, two_groups

# (factory, how many leading items are personal, folds a new row in); the friend rule's
# list is the friend's items (at least one new here), then popular ones.
RANKERS: dict[str, tuple[Callable[[], Ranker], int, bool]] = {
    "most_popular": (MostPopular, 0, False),
    "trending": (Trending, 0, False),
    "friend_rule": (FriendRule, 1, True),
    "neighbour_topn": (NeighbourTopN, 3, True),
    "itemknn": (ItemKNN, 3, True),
    "itemknn_bm25": (lambda: ItemKNN(feature_weighting="bm25"), 3, True),
    "rp3beta": (RP3beta, 3, True),
    "ease": (lambda: EASE(lam=1.0), 3, True),
    "ials": (lambda: IALS(factors=2, iterations=20, threads=1), 3, True),
    "bpr": (lambda: BPR(factors=8, iterations=200), 3, False),
    "content": (ContentBased, 3, True),
}

TRAIN = two_groups()
USERS = np.arange(TRAIN.n_users)


@pytest.fixture(scope="module", params=sorted(RANKERS))
def case(request: pytest.FixtureRequest) -> tuple[Ranker, int, bool]:
    factory, personalised, folds = RANKERS[request.param]
    ranker = factory()
    ranker.fit(TRAIN)
    return ranker, personalised, folds


def owned(user: int) -> set[int]:
    return set(TRAIN.user_items[user].indices.tolist())


def test_shapes_types_and_padding(case):
    ranker, _, _ = case
    ids, scores = ranker.recommend(USERS, 30)
    assert ids.shape == scores.shape == (len(USERS), 30)
    assert ids.dtype == np.int64 and scores.dtype == np.float32
    listed = ids >= 0
    assert (np.isnan(scores) == ~listed).all()
    assert (listed[:, 1:] <= listed[:, :-1]).all(), "-1 padding only at the end"
    assert not listed[:, 18:].any(), "24 items, 6 owned: at most 18 to list"


def test_never_an_owned_item_nor_twice(case):
    ranker, _, _ = case
    ids, _ = ranker.recommend(USERS, 10)
    for user, row in zip(USERS, ids, strict=True):
        items = row[row >= 0].tolist()
        assert not set(items) & owned(user)
        assert len(set(items)) == len(items)


def test_personalised_rankers_list_the_groups_unseen_items_first(case):
    ranker, personal, _ = case
    if not personal:
        pytest.skip("the same list for everyone")
    ids, _ = ranker.recommend(USERS, personal)
    for user, row in zip(USERS, ids, strict=True):
        assert set(row.tolist()) <= group_items(user) - owned(user), (user, row)


def test_user_order_and_repeats_do_not_matter(case):
    ranker, _, _ = case
    users = np.array([5, 30, 5, 0])
    ids, scores = ranker.recommend(users, 5)
    each = [ranker.recommend(np.array([u]), 5) for u in users]
    for row, (one_ids, one_scores) in enumerate(each):
        assert ids[row].tolist() == one_ids[0].tolist()
        np.testing.assert_allclose(scores[row], one_scores[0], rtol=1e-5)


def test_folded_in_items_are_excluded(case):
    ranker, _, _ = case
    user = 3
    first = ranker.recommend(np.array([user]), 5)[0][0]
    row = TRAIN.user_items[[user]].tolil()
    row[0, first[0]] = 1.0
    ids, _ = ranker.recommend(np.array([user]), 5, user_items=sp.csr_matrix(row))
    assert first[0] not in ids[0]
    assert not set(ids[0].tolist()) & owned(user)


def test_folding_in_the_other_groups_items_moves_the_list(case):
    ranker, personal, folds = case
    if not folds:
        pytest.skip("this ranker does not learn from a folded-in row")
    user = 0
    other = TRAIN.user_items[[GROUP_USERS + 1]]
    ids, _ = ranker.recommend(np.array([user]), personal, user_items=other)
    assert set(ids[0].tolist()) <= group_items(GROUP_USERS) - set(other.indices.tolist())
    again, _ = ranker.recommend(np.array([user]), personal)
    assert set(again[0].tolist()) <= group_items(user), "folding in must not refit"


def test_bad_user_items_shape_is_an_error(case):
    ranker, _, _ = case
    with pytest.raises(ValueError, match="shape"):
        ranker.recommend(np.array([0, 1]), 3, user_items=TRAIN.user_items[[0]])


def test_content_rankers_need_content():
    bare = two_groups()
    bare = type(bare)(bare.user_items, bare.added_at, bare.now)
    for name, (factory, _, _) in RANKERS.items():
        ranker = factory()
        if ranker.needs_content:
            with pytest.raises(ValueError, match="content"):
                ranker.fit(bare)
        else:
            ranker.fit(bare)
            assert ranker.recommend(np.array([0]), 3)[0].shape == (1, 3), name
