"""Temporal split: each user's latest items are held out for testing.

For every user with at least ``min_items`` items, the last ``holdout`` share of their items by
add time is the test set: ``max(1, round(holdout * n))`` items (half rounds up), ties in time
broken by the item row (the higher row counts as later). These are the test users.

Users with fewer items but at least ``cold_min_items`` hold out their latest item and form the
cold-start set, scored apart (with the default 2, they keep 1-3 training items). Users with
fewer items still (or all of them, when ``cold_min_items >= min_items``) stay entirely in
training.

The cut is per user, so one user's training items may be newer than another user's test
items. Rankers get ``now`` = the latest training time overall, and a time-windowed ranker
(trending) looks back from there. Activity (views, plays, wants) is cut per user too
(:meth:`Split.cuts`): a user's activity counts only before their first held-out add, so a play
of a held-out release (which follows its add) is never seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import same_sparsity


@dataclass(frozen=True)
class Split:
    """A temporal split of one user-item matrix (same shape for every matrix).

    Attributes:
        train: Training weights.
        test: Held-out weights (only the rows of ``test_users`` and ``cold_users`` have any).
        train_added_at: Add times of the training entries.
        test_added_at: Add times of the held-out entries.
        test_users: Sorted rows of the users with a held-out share.
        cold_users: Sorted rows of the users with one held-out item (the cold-start set).
        now: The latest training time (``-inf`` for an empty training set).
        holdout: Share of each test user's items held out.
        min_items: Fewest items a user needs to be a test user.
        cold_min_items: Fewest items a user needs to be a cold-start user.

    """

    train: sp.csr_matrix
    test: sp.csr_matrix
    train_added_at: sp.csr_matrix
    test_added_at: sp.csr_matrix
    test_users: np.ndarray
    cold_users: np.ndarray
    now: float
    holdout: float
    min_items: int
    cold_min_items: int

    def cuts(self) -> np.ndarray:
        """Per user row: the time of their first held-out add, or ``now`` when none is held out.

        What a user did from their cut on is after the moment their held-out adds are
        predicted for: their activity counts only strictly before it.
        """
        cut = np.full(self.test.shape[0], self.now, dtype=np.float64)
        stamps = sp.csr_matrix(self.test_added_at)
        held = np.flatnonzero(np.diff(stamps.indptr) > 0)
        cut[held] = np.minimum.reduceat(stamps.data, stamps.indptr[held])
        return cut

    def test_rows(self) -> sp.csr_matrix:
        """The held-out items of ``test_users``, row ``i`` for ``test_users[i]``.

        This is the ``test`` the metrics expect beside ``recommend(test_users, ...)``.
        """
        return sp.csr_matrix(self.test[self.test_users])


MIN_ITEMS = 5
"""Items a user needs to be a test user (fewer: cold start, or training only)."""
COLD_MIN_ITEMS = 2
"""Items a user needs to be a cold-start user (fewer: training only)."""


def temporal_split(
    user_items: sp.csr_matrix,
    added_at: sp.csr_matrix,
    holdout: float = 0.2,
    min_items: int = MIN_ITEMS,
    cold_min_items: int = COLD_MIN_ITEMS,
    users: np.ndarray | None = None,
) -> Split:
    """Hold out each user's latest items (see the module docstring for the rule).

    Args:
        user_items: ``(n_users, n_items)`` weights.
        added_at: Add times with exactly the sparsity of ``user_items``.
        holdout: Share of a user's items held out (at least one).
        min_items: Fewest items a user needs to be a test user.
        cold_min_items: Fewest items a user needs to be a cold-start user (1: users whose
            only item is held out have an empty training row).
        users: The only rows that may hold items out (the others stay whole in training);
            None: every row. Only their items are ordered by time.

    Returns:
        The split.

    Raises:
        ValueError: The two matrices differ in shape or sparsity, or ``holdout`` is not in
            (0, 1).

    """
    if not 0.0 < holdout < 1.0:
        raise ValueError(f"holdout must be between 0 and 1, got {holdout}")
    weights, stamps = sp.csr_matrix(user_items), sp.csr_matrix(added_at)
    weights.sort_indices()
    stamps.sort_indices()
    if not same_sparsity(weights, stamps):
        raise ValueError("user_items and added_at must have the same shape and sparsity")
    sizes = np.diff(weights.indptr)
    chosen = np.ones(len(sizes), dtype=bool)
    if users is not None:
        chosen[:] = False
        chosen[users] = True
    owner = np.repeat(np.arange(weights.shape[0]), sizes)
    ordered = np.flatnonzero(chosen[owner])
    first = np.cumsum(sizes * chosen) - sizes * chosen  # each user's first entry in ``ordered``
    order = ordered[np.lexsort((weights.indices[ordered], stamps.data[ordered], owner[ordered]))]
    rank = np.zeros(len(owner), dtype=np.int64)
    rank[order] = np.arange(len(order)) - first[owner[order]]
    tested = chosen & (sizes >= min_items)
    cold = chosen & ~tested & (sizes >= max(cold_min_items, 1))
    held = np.where(tested, np.maximum(1, np.floor(holdout * sizes + 0.5)), cold.astype(int))
    is_test = rank >= sizes[owner] - held[owner]  # never for a row not chosen: held 0

    def part(matrix: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
        indptr = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner[keep], minlength=len(sizes)), out=indptr[1:])
        return sp.csr_matrix(
            (matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape, copy=False
        )

    train_added_at = part(stamps, ~is_test)
    return Split(
        train=part(weights, ~is_test),
        test=part(weights, is_test),
        train_added_at=train_added_at,
        test_added_at=part(stamps, is_test),
        test_users=np.flatnonzero(tested),
        cold_users=np.flatnonzero(cold),
        now=float(train_added_at.data.max(initial=-np.inf)),
        holdout=holdout,
        min_items=min_items,
        cold_min_items=cold_min_items,
    )
