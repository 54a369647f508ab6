"""Most popular: the items with the most owners, the same list for everyone."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import Ranker, TrainData, top_of_ranking


def ranking_by(*keys: np.ndarray) -> np.ndarray:
    """Item rows with any positive key, by the keys descending, then the lower row.

    Args:
        keys: Per-item keys, most significant first.

    Returns:
        The ranked item rows.

    """
    rows = np.arange(len(keys[0]))
    order = np.lexsort((rows, *(-key for key in reversed(keys))))
    known = np.any([key > 0 for key in keys], axis=0)
    return order[known[order]]


class MostPopular(Ranker):
    """The items with the most owners in training, ties to the lower item row.

    The baseline every personalised ranker must beat. Scores are owner counts; folding in
    ``user_items`` only changes which items are left out.
    """

    name = "most_popular"

    def _fit(self, train: TrainData) -> None:
        self.owners = train.owners
        self.ranking = ranking_by(self.owners)

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-n most owned items each user lacks (see :meth:`Ranker.recommend`)."""
        ids = top_of_ranking(self.ranking, self.rows(users, user_items), n)
        return ids, np.where(ids >= 0, self.owners[ids], np.nan).astype(np.float32)
