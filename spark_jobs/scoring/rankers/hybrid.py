"""The production ranker: candidates from several sources, one learned ranking, then calibration.

Sources (each a ranker of its own): the social neighbours (the mission's taste neighbours,
:class:`~.neighbours.NeighbourTopN`), item-to-item (:class:`~.ease.EASE`), content
(:class:`~.content.ContentBased`), recent activity (:class:`~.activity.RecentActivity`) and
popularity (:class:`~.trending.Trending`); which ones is :mod:`~.production`'s choice. Each
gives its top ``depth`` items per user; a LightGBM LambdaRank model learnt on a validation split
of the training data orders the union (:mod:`~.learned`: the sources' scores and ranks,
popularity, collection size and content's score parts). Cold-start users are ranked by the same
model, which sees their collection size; users with no items at all (never among the validation
users the model learns from) get their candidates ranked by the sum of their source scores, as
when there is no model. Finally Steck's calibrated re-rank (:func:`~.calibration.calibrate`)
picks the list from the ranked candidates. Owned items are never returned; a user's first adds
are folded in through each source's own fold-in (``user_items``), without refitting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import lightgbm as lgb
import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import Ranker, TrainData, usable
from spark_jobs.scoring.rankers.calibration import calibrate, genre_distribution
from spark_jobs.scoring.rankers.compiled import CompiledModel
from spark_jobs.scoring.rankers.learned import (
    CandidateTable,
    candidate_table,
    learn_ranker,
    score_sum,
    source_lists,
    top_candidates,
)


class Hybrid(Ranker):
    """Several sources' candidates ordered by a learned model, then re-ranked (module docstring).

    Args:
        sources: The source rankers (fitted by :meth:`fit`; already fitted on the same data:
            kept).
        make_sources: Builds fresh, unfitted copies of the sources, for the validation split
            the model is learnt on.
        calibration: Strength of the calibrated re-rank (0: none).
        depth: Items taken from each source.
        rerank_depth: The best-ranked candidates kept for the re-rank.
        seed: Seed of the model's user sample and of LightGBM.
        threads: LightGBM threads.
        model: A ranking model learnt earlier: :meth:`fit` keeps it instead of learning one
            when its features are the ones these sources give (:attr:`reused`).

    """

    name = "hybrid"
    model: lgb.Booster | None = None
    predictor: CompiledModel | None = None
    reused: bool = False

    def __init__(
        self,
        sources: Sequence[Ranker],
        make_sources: Callable[[], Sequence[Ranker]],
        calibration: float,
        depth: int = 100,
        rerank_depth: int = 100,
        *,
        seed: int = 0,
        threads: int = 2,
        model: lgb.Booster | None = None,
    ) -> None:
        self.sources = list(sources)
        self.earlier_model = model
        self.make_sources = make_sources
        self.calibration = calibration
        self.depth = depth
        self.rerank_depth = rerank_depth
        self.seed = seed
        self.threads = threads

    def _fit(self, train: TrainData) -> None:
        """Fit the sources and learn the model, the two at once when no model may be reused.

        Learning fits its own sources on a validation split, so it shares nothing with the
        sources' fit; both spend much of their time in one core's numpy and scipy calls, which
        release the GIL, so a second thread fills the other core.
        """
        self.sources = usable(self.sources, train)
        earlier = self.earlier_model
        learn = partial(
            learn_ranker, self.make_sources, train, self.depth, seed=self.seed, threads=self.threads
        )
        with ThreadPoolExecutor(1) as pool:
            learning = pool.submit(learn) if earlier is None else None
            for source in self.sources:
                source.fit(train)
            self.reused = earlier is not None and tuple(earlier.feature_name()) == self.features()
            if self.reused:
                self.model = earlier
            else:
                self.model = learning.result() if learning is not None else learn()
        self.predictor = None if self.model is None else CompiledModel(self.model)

    def features(self) -> tuple[str, ...]:
        """The names of the candidate features the fitted sources give (a model's inputs).

        Read off the candidates of the user with the most items, so that every source lists
        something and content gives its score parts (none without users).
        """
        if self.train.n_users == 0:
            return ()
        users = np.array([np.argmax(np.diff(self.train.user_items.indptr))], dtype=np.int64)
        lists, parts = source_lists(self.sources, users, self.depth)
        table = candidate_table(lists, self.rows(users, None), self.train, parts)
        return table.names

    def ranked(
        self, users: np.ndarray, user_items: sp.csr_matrix | None
    ) -> tuple[sp.csr_matrix, tuple[np.ndarray, np.ndarray]]:
        """The users' item rows, and their ``rerank_depth`` best candidates by the model.

        Returns:
            The rows, and ``(users, rerank_depth)`` item rows and scores in (0, 1], best first.

        """
        users = np.asarray(users, dtype=np.int64)
        rows = self.rows(users, user_items)
        lists, parts = source_lists(self.sources, users, self.depth, user_items)
        table = candidate_table(lists, rows, self.train, parts)
        return rows, top_candidates(table, self.scores(table), len(users), self.rerank_depth)

    def scores(self, table: CandidateTable) -> np.ndarray:
        """Each candidate's score for the ranking.

        The model's, compiled once a fit (:class:`~.compiled.CompiledModel`); the sum of its
        per-source scores for a user with no items, and for everyone when there is no model.
        """
        scores = score_sum(table, [s.name for s in self.sources])
        if self.predictor is not None and len(table.items):
            learnt = self.predictor.predict(table.features, self.threads)
            scores = np.where(table.column("size") > 0, learnt, scores)
        return scores

    def rerank(
        self,
        ranked: tuple[np.ndarray, np.ndarray],
        rows: sp.csr_matrix,
        n: int,
        calibration: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The top ``n`` of the ranked candidates, calibrated when asked and possible."""
        ids, scores = ranked
        content = self.train.content
        if calibration <= 0 or content is None:
            width = max(n - ids.shape[1], 0)  # fewer candidates than n: -1 / nan padded
            return (
                np.pad(ids[:, :n], ((0, 0), (0, width)), constant_values=-1),
                np.pad(
                    scores[:, :n].astype(np.float32), ((0, 0), (0, width)), constant_values=np.nan
                ),
            )
        p = genre_distribution(rows, content.genres)
        return calibrate(ids, scores, p, content.genres, n, calibration)

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ranked, calibrated top-n (see :meth:`Ranker.recommend`)."""
        rows, ranked = self.ranked(users, user_items)
        return self.rerank(ranked, rows, n, self.calibration)
