"""Matrix factorisation with the ``implicit`` library (CPU): iALS and BPR."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from implicit.bpr import BayesianPersonalizedRanking
from threadpoolctl import threadpool_limits

from spark_jobs.scoring.rankers.base import Ranker, TrainData

FILTERED = np.finfo(np.float32).min
"""The score ``implicit`` gives the items it filtered out when a list runs short."""


class _Factorisation(Ranker):
    """Fits an ``implicit`` model with one BLAS thread and lists its top items."""

    recalculates_users = False
    model: Any

    @abstractmethod
    def _model(self) -> Any:
        """A fresh, unfitted ``implicit`` model."""

    def _fit(self, train: TrainData) -> None:
        with threadpool_limits(1, "blas"):
            self.model = self._model()
            self.model.fit(sp.csr_matrix(train.user_items, dtype=np.float32), show_progress=False)

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-n by the model's own ``recommend``, the user's items filtered out."""
        users = np.asarray(users, dtype=np.int64)
        rows = sp.csr_matrix(self.rows(users, user_items), dtype=np.float32)
        ids = np.full((len(users), n), -1, dtype=np.int64)
        values = np.full((len(users), n), np.nan, dtype=np.float32)
        width = min(n, self.train.n_items)
        if len(users) == 0 or width == 0:
            return ids, values
        found, scores = self.model.recommend(
            users,
            rows,
            N=width,
            filter_already_liked_items=True,
            recalculate_user=self.recalculates_users and user_items is not None,
        )
        listed = (found >= 0) & (scores > FILTERED)
        ids[:, :width] = np.where(listed, found, -1)
        values[:, :width] = np.where(listed, scores, np.nan)
        return ids, values


class IALS(_Factorisation):
    """Implicit ALS (Hu, Koren & Volinsky 2008), ``implicit.als.AlternatingLeastSquares``.

    Confidence ``alpha * weight`` on the owned items and 1 on the others (implicit's
    convention), conjugate-gradient updates. Folding
    in ``user_items`` recomputes those users' factors from the rows (``recalculate_user``).

    Args:
        factors: Latent dimensions.
        regularization: L2 penalty.
        alpha: Confidence scale of the weights.
        iterations: ALS sweeps.
        random_state: Seed of the initial factors.
        threads: implicit's own threads (0: all cores); results do not depend on it.

    """

    name = "ials"
    recalculates_users = True

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 2.0,
        iterations: int = 15,
        random_state: int = 0,
        threads: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state
        self.threads = threads

    def _model(self) -> Any:
        return AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            random_state=self.random_state,
            num_threads=self.threads,
            use_gpu=False,
        )


class BPR(_Factorisation):
    """Bayesian Personalized Ranking (Rendle et al. 2009), ``implicit.bpr``.

    SGD on sampled (owned, not owned) item pairs with an item bias. Folding in ``user_items``
    only changes which items are filtered out (BPR has no closed-form user update).

    Args:
        factors: Latent dimensions.
        learning_rate: SGD step (implicit's default; 0.05 halved recall@10 on a synthetic world).
        regularization: L2 penalty.
        iterations: Epochs.
        random_state: Seed of the factors and the sampling.
        threads: implicit's threads; with more than one the updates race (Hogwild) and
            results vary from run to run, so 1 keeps a seed reproducible.

    """

    name = "bpr"

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        random_state: int = 0,
        threads: int = 1,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.random_state = random_state
        self.threads = threads

    def _model(self) -> Any:
        return BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            iterations=self.iterations,
            random_state=self.random_state,
            num_threads=self.threads,
            use_gpu=False,
        )
