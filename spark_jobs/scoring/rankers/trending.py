"""Trending: what was added most in the last days before the split, the same list for everyone."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import Ranker, TrainData, top_of_ranking
from spark_jobs.scoring.rankers.popular import ranking_by

DAY = 86_400.0


class Trending(Ranker):
    """Items by recent adds, like the production ``trending`` counts but over days.

    An item's trend is the number of adds in the ``window_days`` before ``train.now``, not
    decayed (every add in the window counts 1), plus ``activity_weight`` per view, play or
    want in ``train.activity``. That matrix carries no times, so all of it counts as recent
    (production keeps 30 days of activity). Ties, and the items with no trend at all, follow
    the owner counts (:class:`.popular.MostPopular`'s order). Scores are the trend (0 for items
    ranked by owners alone); folding in ``user_items`` only changes which items are left out.

    Args:
        window_days: Days before ``now`` whose adds count.
        activity_weight: Weight of one activity event relative to one add.

    """

    name = "trending"

    def __init__(self, window_days: float = 14.0, activity_weight: float = 0.25) -> None:
        self.window_days = window_days
        self.activity_weight = activity_weight

    def _fit(self, train: TrainData) -> None:
        stamps = train.added_at
        recent = (stamps.data > train.now - self.window_days * DAY) & (stamps.data <= train.now)
        trend = np.bincount(stamps.indices[recent], minlength=train.n_items).astype(np.float64)
        if train.activity is not None:
            events = train.activity
            trend += self.activity_weight * np.bincount(
                events.indices, weights=events.data, minlength=train.n_items
            )
        self.trend = trend
        self.ranking = ranking_by(trend, train.owners)

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-n trending items each user lacks (see :meth:`Ranker.recommend`)."""
        ids = top_of_ranking(self.ranking, self.rows(users, user_items), n)
        return ids, np.where(ids >= 0, self.trend[ids], np.nan).astype(np.float32)
