"""The online check: adds since the last scoring against the last list and the most popular."""

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.quality import online_check


def test_known_hits_for_the_list_and_for_popularity() -> None:
    # 3 users x 5 releases (ids 10..14). Release 0 is the most owned, then 1.
    owned = [(0, 0, 1.0), (0, 2, 5.0), (0, 3, 6.0), (1, 0, 1.0), (1, 1, 1.0), (2, 0, 9.0)]
    rows, cols, times = zip(*owned, strict=True)
    user_items = sp.csr_matrix((np.ones(len(owned)), (rows, cols)), shape=(3, 5))
    added_at = sp.csr_matrix((np.array(times), (rows, cols)), shape=(3, 5))
    scored_at = np.array([2.0, 2.0, np.nan])
    recommended = [np.array([12, 14]), np.array([13]), np.array([])]
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
    check = online_check(empty, empty, np.array([0]), np.array([1.0]), [np.array([])], np.arange(3))
    assert check.adds == 0 and np.isnan(check.share)


def test_the_adds_checked_do_not_make_their_own_popular_reference() -> None:
    # Users 0 and 1 (scored at t=2) both add row 4 at t=5; before that only row 0 was owned.
    owned = [(0, 4, 5.0), (1, 4, 5.0), (2, 0, 1.0)]
    rows, cols, times = zip(*owned, strict=True)
    user_items = sp.csr_matrix((np.ones(len(owned)), (rows, cols)), shape=(3, 5))
    added_at = sp.csr_matrix((np.array(times), (rows, cols)), shape=(3, 5))
    scored_at = np.array([2.0, 2.0, np.nan])
    recommended = [np.array([]), np.array([]), np.array([])]
    check = online_check(
        user_items, added_at, np.array([0, 1, 2]), scored_at, recommended, np.arange(5), n=1
    )
    assert (check.adds, check.popular_hits) == (2, 0)  # the reference was row 0, not row 4
