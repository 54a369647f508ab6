"""Recent activity: the releases a user viewed, played or wanted and does not own."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import ScoreRanker, TrainData

TIE_BREAK = 0.5
"""Largest share of one event that popularity adds, ordering items with as many events."""


class RecentActivity(ScoreRanker):
    """A user's own views, plays and wants of releases they lack, most events first.

    The wantlist-style signal: a release someone looked at or wanted is one they may add. The
    score of an item is its number of the user's events in ``train.activity``, plus up to
    :data:`TIE_BREAK` by its owner count, so among equally visited items the popular come first.
    Items without an event of the user are never listed (a user without activity gets an empty
    list). Folding in ``user_items`` only changes which items are left out.
    """

    name = "activity"
    needs_activity = True

    def _fit(self, train: TrainData) -> None:
        shape = (train.n_users, train.n_items)
        self.events = sp.csr_matrix(
            train.activity if train.activity is not None else shape, dtype=np.float32
        )
        owners = train.owners.astype(np.float64)
        self.tie_break = TIE_BREAK * owners / (owners.max(initial=0.0) + 1.0)

    def scores(self, users: np.ndarray, rows: sp.csr_matrix) -> sp.csr_matrix:
        """Each user's event counts per item, plus the popularity tie-break."""
        block = sp.csr_matrix(self.events[users], copy=True)
        block.data += self.tie_break[block.indices].astype(np.float32)
        return block
