"""The rankers ``discorecs evaluate`` compares, and the production hybrid tuned at fit time."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.rankers.base import Ranker, TrainData
from spark_jobs.scoring.rankers.content import ContentBased
from spark_jobs.scoring.rankers.ease import EASE
from spark_jobs.scoring.rankers.friend_rule import FriendRule
from spark_jobs.scoring.rankers.fusion import tune
from spark_jobs.scoring.rankers.hybrid import FusionParameters, Hybrid, fuse
from spark_jobs.scoring.rankers.implicit_mf import BPR, IALS
from spark_jobs.scoring.rankers.itemknn import ItemKNN
from spark_jobs.scoring.rankers.neighbours import NeighbourTopN
from spark_jobs.scoring.rankers.popular import MostPopular
from spark_jobs.scoring.rankers.production import production_sources
from spark_jobs.scoring.rankers.rp3beta import RP3beta
from spark_jobs.scoring.rankers.trending import Trending

PRODUCTION = "hybrid"
DEPTH = 100


class TunedHybrid(Ranker):
    """The production hybrid whose fusion is tuned on a validation split of what it is fit on.

    Args:
        tuning: The scoring settings (neighbours, HNSW parameters).
        seed: Seed of the sources and of the validation sample.

    Attributes:
        parameters: The fusion chosen at the last fit.

    """

    name = PRODUCTION

    def __init__(self, tuning: ScoringSettings, seed: int) -> None:
        self.tuning = tuning
        self.seed = seed
        self.parameters: FusionParameters | None = None
        self.hybrid: Hybrid | None = None
        self._last: tuple[tuple[bytes, bool], sp.csr_matrix, tuple[np.ndarray, np.ndarray]] | None
        self._last = None

    def _fit(self, train: TrainData) -> None:
        self.parameters = tune(
            lambda: production_sources(self.tuning, self.seed), train, DEPTH, self.seed
        )
        self.hybrid = Hybrid(production_sources(self.tuning, self.seed), self.parameters, DEPTH)
        self.hybrid.fit(train)
        self._last = None

    def fused(
        self, users: np.ndarray, user_items: sp.csr_matrix | None
    ) -> tuple[sp.csr_matrix, tuple[np.ndarray, np.ndarray]]:
        """The users' item rows and fused candidates, kept for the last users asked about."""
        assert self.hybrid is not None, "fit first"
        key = (users.tobytes(), user_items is None)
        if self._last is None or self._last[0] != key:
            rows = self.hybrid.rows(users, user_items)
            candidates = self.hybrid.candidates(users, user_items)
            weights = self.hybrid.user_weights(rows)
            fused = fuse(candidates, weights, self.hybrid.train.n_items, self.hybrid.depth)
            self._last = (key, rows, fused)
        return self._last[1], self._last[2]

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The hybrid's lists (see :meth:`Ranker.recommend`)."""
        assert self.hybrid is not None and self.parameters is not None, "fit first"
        users = np.asarray(users, dtype=np.int64)
        rows, fused = self.fused(users, user_items)
        return self.hybrid.rerank(fused, rows, n, self.parameters.calibration)


class Uncalibrated(Ranker):
    """The same fitted hybrid without its calibrated re-rank: what calibration is judged by."""

    name = f"{PRODUCTION}_uncalibrated"

    def __init__(self, tuned: TunedHybrid) -> None:
        self.tuned = tuned

    def _fit(self, train: TrainData) -> None:
        """Nothing to learn: the tuned hybrid was fitted just before."""

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The hybrid's fused top-n, not re-ranked."""
        assert self.tuned.hybrid is not None, "fit the tuned hybrid first"
        users = np.asarray(users, dtype=np.int64)
        rows, fused = self.tuned.fused(users, user_items)
        return self.tuned.hybrid.rerank(fused, rows, n, 0.0)


def roster(seed: int, tuning: ScoringSettings | None = None) -> list[Ranker]:
    """Every ranker of the comparison, the production hybrid (and its uncalibrated list) last."""
    tuning = tuning or ScoringSettings()
    tuned = TunedHybrid(tuning, seed)
    return [
        MostPopular(),
        Trending(),
        FriendRule(tuning),
        NeighbourTopN(tuning),
        ItemKNN(),
        RP3beta(),
        EASE(),
        IALS(random_state=seed),
        BPR(random_state=seed),
        ContentBased(),
        tuned,
        Uncalibrated(tuned),
    ]
