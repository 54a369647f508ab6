"""Today's production top-n: the releases of the k nearest users by taste, then popular ones."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.compute import ranked_lists
from spark_jobs.scoring.friends import TasteIndex, VectorIndex
from spark_jobs.scoring.rankers.base import (
    Ranker,
    TrainData,
    binarise,
    genre_tastes,
    with_rows,
)
from spark_jobs.scoring.recommend import Collections, ReleaseFeatures, Styles, popular_by_genre
from spark_jobs.scoring.taste import top_genres


@dataclass(frozen=True)
class _Tastes:
    """Collections, tastes and top genres of every user, and the index of their tastes."""

    collections: Collections
    taste: np.ndarray
    top_genre: np.ndarray
    index: TasteIndex


class NeighbourTopN(Ranker):
    """The hourly job's ranked list, through the same code (:func:`.compute.ranked_lists`).

    Candidates are the items of the k nearest users by genre taste, scored by the summed
    similarity of the neighbours owning them, ties broken by genre match, style match,
    trending, then the lower row (:func:`.recommend.rank_candidates`). Short lists are filled
    with the most popular items of the user's top genre, then overall (score 0). Tastes count
    the users' activity as production does (:func:`.taste.taste_vectors`); owners come from
    training; trending is the activity per item (zeros without activity). Neighbours are
    searched for the users asked for only. Folding in ``user_items`` recomputes those users'
    tastes and the index, as the next hourly run would.

    Args:
        tuning: ``neighbours`` (k), ``fallback_depth`` and the HNSW parameters; the list
            length is the ``n`` asked for.
        taste: Every user's taste, as the hourly job computed it, with ``index`` its taste
            index: :meth:`fit` then uses them instead of computing both from the training
            data.
        index: See ``taste``.
        start: Otherwise, an index of other tastes of mostly the same users (the hourly run's,
            for the ranking model's validation data, where only a sample of users hold items
            out): :meth:`fit` extends a copy of it with the tastes it lacks
            (:func:`.friends.extended_index`, which builds anew when too many of its vectors
            are no one's now) instead of building one.

    """

    name = "neighbour_topn"
    needs_content = True

    def __init__(
        self,
        tuning: ScoringSettings | None = None,
        taste: np.ndarray | None = None,
        index: TasteIndex | None = None,
        start: VectorIndex | None = None,
    ) -> None:
        self.tuning = tuning or ScoringSettings()
        self.given = None if taste is None or index is None else (taste, index)
        self.start = start

    def _fit(self, train: TrainData) -> None:
        content = train.require_content(self.name)
        styles = content.styles
        trending = np.zeros(train.n_items, dtype=np.int64)
        if train.activity is not None:
            trending = np.bincount(
                train.activity.indices, weights=train.activity.data, minlength=train.n_items
            ).astype(np.int64)
        self.content, self.activity = content, train.activity
        self.features = ReleaseFeatures(
            content.genres.toarray().astype(np.float32),
            Styles(
                styles.indptr.astype(np.int64),
                styles.indices.astype(np.int64),
                styles.data.astype(np.float32),
                styles.shape[1],
            ),
            train.owners,
            trending,
        )
        self.fallback_lists = popular_by_genre(
            self.features.popularity, self.features.genre_weights, self.tuning.fallback_depth
        )
        self.owned = binarise(train.user_items)
        if self.given is None or len(self.given[0]) != train.n_users:
            self.tastes = self.tastes_of(self.owned, self.start.copy() if self.start else None)
        else:
            taste, index = self.given
            collections = Collections.from_csr(self.owned)
            self.tastes = _Tastes(collections, taste, top_genres(taste), index)

    def tastes_of(self, owned: sp.csr_matrix, earlier: VectorIndex | None = None) -> _Tastes:
        """Tastes (items and activity), top genres and the taste index (``earlier`` extended)."""
        collections, taste = genre_tastes(owned, self.content, self.activity)
        index = TasteIndex(taste, self.tuning, earlier)
        return _Tastes(collections, taste, top_genres(taste), index)

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The production ranked lists (see :meth:`Ranker.recommend`)."""
        users = np.asarray(users, dtype=np.int64)
        distinct, first, inverse = np.unique(users, return_index=True, return_inverse=True)
        tastes = self.tastes
        if user_items is not None:
            rows = binarise(self.rows(users, user_items)[first])
            tastes = self.tastes_of(with_rows(self.owned, distinct, rows))
        ranked = ranked_lists(
            tastes.collections,
            self.features,
            tastes.taste,
            tastes.top_genre,
            tastes.index.nearest(self.tuning.neighbours, distinct),
            distinct,
            n,
            self.fallback_lists,
        )
        inverse = inverse.reshape(-1)
        return ranked.releases[inverse], ranked.scores[inverse]
