"""The online check: adds since the last scoring against the last list and the most popular."""

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.id_lists import IdLists
from spark_jobs.scoring.quality import SHARE_FIGURES, OnlineCheck, online_check, popularity_as_of


def test_known_hits_for_the_list_and_for_popularity() -> None:
    # 3 users x 5 releases (ids 10..14). Release 0 is the most owned, then 1.
    owned = [(0, 0, 1.0), (0, 2, 5.0), (0, 3, 6.0), (1, 0, 1.0), (1, 1, 1.0), (2, 0, 9.0)]
    rows, cols, times = zip(*owned, strict=True)
    user_items = sp.csr_matrix((np.ones(len(owned)), (rows, cols)), shape=(3, 5))
    added_at = sp.csr_matrix((np.array(times), (rows, cols)), shape=(3, 5))
    scored_at = np.array([2.0, 2.0, np.nan])
    recommended = IdLists.of([[12, 14], [13], []])
    check = online_check(
        user_items, added_at, np.array([0, 1, 2]), scored_at, recommended, np.arange(10, 15), n=2
    )
    # User 0 added rows 2 and 3 after its scoring: 2 was listed; the popular pair it lacked
    # then was rows 1 and 2, so row 2 is a popular hit too. User 1 added nothing since; user 2
    # was never scored.
    assert (check.users, check.adds, check.hits, check.popular_hits) == (2, 2, 1, 1)
    assert check.share == 0.5 and check.popular_share == 0.5
    assert check.figures()["hit_share_most_popular"] == 0.5


def test_no_adds_gives_nan_shares_and_is_not_written() -> None:
    empty = sp.csr_matrix((1, 3))
    check = online_check(
        empty, empty, np.array([0]), np.array([1.0]), IdLists.empty(1), np.arange(3)
    )
    assert check.adds == 0 and np.isnan(check.share)


def test_the_adds_checked_do_not_make_their_own_popular_reference() -> None:
    # Users 0 and 1 (scored at t=2) both add row 4 at t=5; before that only row 0 was owned.
    owned = [(0, 4, 5.0), (1, 4, 5.0), (2, 0, 1.0)]
    rows, cols, times = zip(*owned, strict=True)
    user_items = sp.csr_matrix((np.ones(len(owned)), (rows, cols)), shape=(3, 5))
    added_at = sp.csr_matrix((np.array(times), (rows, cols)), shape=(3, 5))
    scored_at = np.array([2.0, 2.0, np.nan])
    recommended = IdLists.empty(3)
    check = online_check(
        user_items, added_at, np.array([0, 1, 2]), scored_at, recommended, np.arange(5), n=1
    )
    assert (check.adds, check.popular_hits) == (2, 0)  # the reference was row 0, not row 4


def test_each_user_s_popular_reference_is_as_of_their_own_scoring() -> None:
    # Row 1 gains two owners at t=5 (users 2 and 3). User 0 was scored at t=1 and user 1 at
    # t=6; each then adds row 1 (t=7 and t=8). Row 0 had the one owner before t=5.
    owned = [(0, 1, 7.0), (1, 1, 8.0), (2, 1, 5.0), (3, 1, 5.0), (4, 0, 0.5)]
    rows, cols, times = zip(*owned, strict=True)
    user_items = sp.csr_matrix((np.ones(len(owned)), (rows, cols)), shape=(5, 3))
    added_at = sp.csr_matrix((np.array(times), (rows, cols)), shape=(5, 3))
    scored_at = np.array([1.0, 6.0, np.nan, np.nan, np.nan])
    empty = IdLists.empty(5)
    check = online_check(user_items, added_at, np.arange(5), scored_at, empty, np.arange(3), n=1)
    # User 0's reference (as of t=1) is row 0: a miss; user 1's (as of t=6) is row 1: a hit.
    assert (check.users, check.adds, check.popular_hits) == (2, 2, 1)


def test_a_release_owned_when_scored_and_added_again_is_no_add() -> None:
    # Both users were scored at t=2. User 0 owned row 0 from t=1 and added it again at t=5
    # (the upsert moved added_at); user 1 added row 0 for the first time at t=5.
    owned = [(0, 0, 5.0), (1, 0, 5.0), (2, 0, 1.0)]
    rows, cols, times = zip(*owned, strict=True)
    user_items = sp.csr_matrix((np.ones(len(owned)), (rows, cols)), shape=(3, 2))
    added_at = sp.csr_matrix((np.array(times), (rows, cols)), shape=(3, 2))
    before = sp.csr_matrix((np.array([1.0, 1.0]), ([0, 2], [0, 0])), shape=(3, 2))
    scored_at = np.array([2.0, 2.0, np.nan])
    args = (user_items, added_at, np.arange(3), scored_at, IdLists.empty(3), np.arange(2))
    assert online_check(*args, n=1).adds == 2, "without the last run's collections"
    check = online_check(*args, n=1, added_before=before)
    # Only user 1's add counts; row 0 was the popular release user 1 lacked: a hit.
    assert (check.adds, check.popular_hits) == (1, 1)


def test_popularity_as_of_counts_the_pairs_added_by_each_time() -> None:
    items = np.array([2, 0, 2, 1, 1, 1])
    stamps = np.array([5.0, 10.0, 10.0, 20.0, 21.0, 99.0])
    rankings = popularity_as_of(items, stamps, np.array([10.0, 21.0]), 3, 2)
    assert rankings[10.0].tolist() == [2, 0], "a pair added at the time itself counts"
    assert rankings[21.0].tolist() == [1, 2], "the add after every time never counts"


def test_the_share_figures_are_the_list_and_popularity_shares_the_rest_counts() -> None:
    figures = OnlineCheck(users=4, adds=8, hits=2, popular_hits=1).figures()
    assert [figures[name] for name in SHARE_FIGURES] == [0.25, 0.125]
    assert {k: v for k, v in figures.items() if k not in SHARE_FIGURES} == {"users": 4, "adds": 8}
