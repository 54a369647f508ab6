"""The discorecs friend rule as a list: the most-owned releases of the nearest user by taste."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.friends import TasteIndex, reliable_first
from spark_jobs.scoring.rankers.base import (
    Ranker,
    TrainData,
    binarise,
    genre_tastes,
    top_of_ranking,
    with_rows,
)
from spark_jobs.scoring.rankers.popular import ranking_by


class FriendRule(Ranker):
    """The friend's items the user lacks, most owned first, then the most owned items overall.

    A user's taste is the unit genre mix of their items and activity, as in production
    (:func:`~spark_jobs.scoring.taste.taste_vectors`); the friend is the nearest other user by
    cosine (:class:`~spark_jobs.scoring.friends.TasteIndex`, as in
    production). The first item is therefore the discorecs rule's pick (the most-owned release
    of the friend the user lacks, ties to the lower row). Scores are ``1 + p`` for the friend's
    items and ``p`` for the padding, where ``p`` in (0, 1] falls with the item's place in the
    owners ranking. Folding in ``user_items`` recomputes those users' tastes and friends.

    Args:
        tuning: The HNSW parameters (``ann_*`` scoring settings).

    """

    name = "friend_rule"
    needs_content = True

    def __init__(self, tuning: ScoringSettings | None = None) -> None:
        self.tuning = tuning or ScoringSettings()

    def _fit(self, train: TrainData) -> None:
        self.content = train.require_content(self.name)
        self.activity = train.activity
        self.ranking = ranking_by(train.owners)
        self.place = np.full(train.n_items, train.n_items, dtype=np.int64)
        self.place[self.ranking] = np.arange(len(self.ranking))
        self.popularity = np.maximum(1.0 - self.place / max(len(self.ranking), 1), 0.0)
        self.owned = binarise(train.user_items)
        self.friend = self.friends(self.owned)

    def friends(self, owned: sp.csr_matrix) -> np.ndarray:
        """Each user's friend by genre taste, as production picks it (-1 for none).

        The most similar of the k nearest, weighted by how well each is known
        (:func:`~spark_jobs.scoring.friends.reliable_first`).
        """
        _, taste = genre_tastes(owned, self.content, self.activity)
        nearest = TasteIndex(taste, self.tuning).neighbours(self.tuning.neighbours)
        sizes = np.diff(owned.indptr)
        return reliable_first(nearest, sizes, self.tuning.friend_prior).friend

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The friend's items, then popular ones (see :meth:`Ranker.recommend`)."""
        users = np.asarray(users, dtype=np.int64)
        rows = binarise(self.rows(users, user_items))
        owned, friend = self.owned, self.friend
        if user_items is not None:
            distinct, first = np.unique(users, return_index=True)
            owned = with_rows(owned, distinct, rows[first])
            friend = self.friends(owned)
        mine = friend[users]
        theirs = sp.csr_matrix(
            sp.diags((mine >= 0).astype(np.float32)) @ owned[np.maximum(mine, 0)]
        )
        lacking = binarise(theirs - theirs.multiply(rows))
        m = len(users)
        local = np.repeat(np.arange(m, dtype=np.int64), np.diff(lacking.indptr))
        order = np.lexsort((self.place[lacking.indices], local))
        rank = np.arange(len(order)) - lacking.indptr[local]
        first_n = rank < n
        ids = np.full((m, n), -1, dtype=np.int64)
        ids[local[first_n], rank[first_n]] = lacking.indices[order][first_n]
        count = np.minimum(np.diff(lacking.indptr), n)[:, None]
        padding = top_of_ranking(self.ranking, binarise(rows + lacking), n)
        slot = np.arange(n)[None, :]
        from_padding = np.take_along_axis(padding, np.clip(slot - count, 0, n - 1), axis=1)
        ids = np.where(slot < count, ids, from_padding)
        scores = self.popularity[np.maximum(ids, 0)] + (slot < count)
        return ids, np.where(ids >= 0, scores, np.nan).astype(np.float32)
