"""The rankers ``discorecs evaluate`` compares, and the production hybrid tuned at fit time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp

from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.rankers.activity import RecentActivity
from spark_jobs.scoring.rankers.base import Ranker, TrainData
from spark_jobs.scoring.rankers.content import ContentBased
from spark_jobs.scoring.rankers.ease import EASE
from spark_jobs.scoring.rankers.friend_rule import FriendRule
from spark_jobs.scoring.rankers.implicit_mf import BPR, IALS
from spark_jobs.scoring.rankers.itemknn import ItemKNN
from spark_jobs.scoring.rankers.neighbours import NeighbourTopN
from spark_jobs.scoring.rankers.popular import MostPopular
from spark_jobs.scoring.rankers.production import production_hybrid, production_sources
from spark_jobs.scoring.rankers.rp3beta import RP3beta
from spark_jobs.scoring.rankers.trending import Trending
from spark_jobs.scoring.rankers.tuning import tune_calibration

PRODUCTION = "hybrid"
KEPT_USER_SETS = 2
"""Lists kept per ranker: the test users' and the cold-start users'."""

ListsKey = tuple[bytes, int]
Kept = TypeVar("Kept")


def kept(cache: dict[ListsKey, Kept], users: np.ndarray, compute: Callable[[], Kept]) -> Kept:
    """``compute()`` for these users, from ``cache`` when asked before (the newest sets kept)."""
    key = (users.tobytes(), len(users))
    if key not in cache:
        if len(cache) >= KEPT_USER_SETS:
            cache.pop(next(iter(cache)))
        cache[key] = compute()
    return cache[key]


class Remembered(Ranker):
    """A source ranker whose lists of the last user sets are computed once at the hybrid's depth.

    The evaluation asks each source for its top-10 and the hybrid asks it for its top
    ``depth`` of the same users: both are served from one computation (a top-10 is the first
    ten of a top-``depth``). Folded-in rows and longer lists go to the ranker itself.

    Args:
        ranker: The source ranker (its name, content need and attributes are this one's).
        depth: List length computed and kept.

    """

    def __init__(self, ranker: Ranker, depth: int) -> None:
        self.ranker = ranker
        self.name = ranker.name
        self.needs_content = ranker.needs_content
        self.needs_activity = ranker.needs_activity
        self.depth = depth
        self._lists: dict[ListsKey, tuple[np.ndarray, np.ndarray]] = {}

    def __getattr__(self, attribute: str) -> Any:
        """The ranker's own attributes (a neighbour ranker's ``friend``, say)."""
        return getattr(self.__dict__["ranker"], attribute)

    def _fit(self, train: TrainData) -> None:
        self.ranker.fit(train)
        self._lists.clear()

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The first ``n`` of the kept lists (see :meth:`Ranker.recommend`)."""
        users = np.asarray(users, dtype=np.int64)
        if user_items is not None or n > self.depth:
            return self.ranker.recommend(users, n, user_items)
        ids, scores = kept(self._lists, users, lambda: self.ranker.recommend(users, self.depth))
        return ids[:, :n], scores[:, :n]


class ServedHybrid(Ranker):
    """The production hybrid as the hourly job builds it, over the roster's own fitted sources.

    Its calibration strength is the scoring settings' (what is served), or, with ``tune``,
    chosen again at fit time on a validation split of what it is fit on
    (:func:`~spark_jobs.scoring.rankers.tuning.tune_calibration`).

    Args:
        tuning: The scoring settings (neighbours, HNSW parameters, calibration, depth).
        sources: The source rankers; those fitted on the same data already are not refitted.
        seed: Seed of the ranking model and of the validation sample when tuning.
        tune: Choose the calibration on a validation split instead of taking the settings'.

    Attributes:
        calibration: The calibration strength in use after the last fit.

    """

    name = PRODUCTION

    def __init__(
        self, tuning: ScoringSettings, sources: list[Ranker], seed: int, *, tune: bool = False
    ) -> None:
        self.tuning = tuning
        self.seed = seed
        self.tune = tune
        self.hybrid = production_hybrid(tuning, seed, sources)
        self.calibration = self.hybrid.calibration
        self._ranked: dict[ListsKey, tuple[sp.csr_matrix, tuple[np.ndarray, np.ndarray]]] = {}

    def _fit(self, train: TrainData) -> None:
        if self.tune:
            self.calibration = tune_calibration(
                lambda: production_hybrid(self.tuning, self.seed), train, self.seed
            )
            self.hybrid.calibration = self.calibration
        self.hybrid.fit(train)
        self._ranked.clear()

    def ranked(
        self, users: np.ndarray, user_items: sp.csr_matrix | None
    ) -> tuple[sp.csr_matrix, tuple[np.ndarray, np.ndarray]]:
        """The users' item rows and ranked candidates, kept for the last user sets asked about."""
        if user_items is not None:
            return self.hybrid.ranked(users, user_items)
        return kept(self._ranked, users, lambda: self.hybrid.ranked(users, None))

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The hybrid's lists (see :meth:`Ranker.recommend`)."""
        users = np.asarray(users, dtype=np.int64)
        rows, ranked = self.ranked(users, user_items)
        return self.hybrid.rerank(ranked, rows, n, self.calibration)


class Uncalibrated(Ranker):
    """The same fitted hybrid without its calibrated re-rank: what calibration is judged by."""

    name = f"{PRODUCTION}_uncalibrated"

    def __init__(self, served: ServedHybrid) -> None:
        self.served = served

    def _fit(self, train: TrainData) -> None:
        """Nothing to learn: the served hybrid was fitted just before."""

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The hybrid's ranked top-n, not re-ranked."""
        users = np.asarray(users, dtype=np.int64)
        rows, ranked = self.served.ranked(users, user_items)
        return self.served.hybrid.rerank(ranked, rows, n, 0.0)


def roster(seed: int, tuning: ScoringSettings | None = None, *, tune: bool = False) -> list[Ranker]:
    """Every ranker of the comparison, the production hybrid (and its uncalibrated list) last.

    The hybrid ranks the candidates of the very rankers listed before it, so each is fitted
    once a seed.
    """
    tuning = tuning or ScoringSettings()
    sources: list[Ranker] = [
        Remembered(source, tuning.hybrid_depth) for source in production_sources(tuning)
    ]
    by_name = {source.name: source for source in sources}
    served = ServedHybrid(tuning, sources, seed, tune=tune)
    return [
        MostPopular(),
        by_name[Trending.name],
        FriendRule(tuning),
        by_name[NeighbourTopN.name],
        ItemKNN(),
        RP3beta(),
        by_name[EASE.name],
        IALS(random_state=seed),
        BPR(random_state=seed),
        by_name[ContentBased.name],
        by_name[RecentActivity.name],
        served,
        Uncalibrated(served),
    ]
