"""Choosing the calibration strength on a validation split of the training data.

The training data is split again by the evaluation's own rule; a fresh hybrid is fitted on the
rest (learning its own model on a split of that), and ranks the held-out users' candidates
once. The calibration strength is the largest of :data:`CALIBRATION_GRID` whose validation
NDCG@10 stays within :data:`NDCG_TOLERANCE` of the uncalibrated list's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import TrainData
from spark_jobs.scoring.rankers.hybrid import Hybrid
from spark_jobs.scoring.rankers.learned import holdout_split, sample_users
from spark_jobs.scoring.rankers.metrics import ndcg_at_k

CALIBRATION_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
NDCG_TOLERANCE = 0.03
"""Largest relative NDCG@10 loss the calibration may cost on validation."""
MAX_VALIDATION_USERS = 4000
LIST_LENGTH = 10


def choose_calibration(
    hybrid: Hybrid,
    ranked: tuple[np.ndarray, np.ndarray],
    rows: sp.csr_matrix,
    test: sp.csr_matrix,
) -> float:
    """The strongest calibration whose validation NDCG@10 loss stays within the tolerance.

    Args:
        hybrid: A fitted hybrid.
        ranked: Its ranked candidates of the validation users.
        rows: Their item rows.
        test: Their held-out items.

    """

    def ndcg(strength: float) -> float:
        return ndcg_at_k(hybrid.rerank(ranked, rows, LIST_LENGTH, strength)[0], test, LIST_LENGTH)

    plain = ndcg(0.0)
    chosen = 0.0
    for strength in CALIBRATION_GRID[1:]:
        if ndcg(strength) >= (1.0 - NDCG_TOLERANCE) * plain:
            chosen = strength
    return chosen


def tune_calibration(make_hybrid: Callable[[], Hybrid], train: TrainData, seed: int = 0) -> float:
    """Fit a fresh hybrid on a validation split of ``train`` and choose its calibration.

    Args:
        make_hybrid: Builds a fresh, unfitted production hybrid.
        train: The training data (split again here; the test data is never seen).
        seed: Seed of the validation user sample.

    Returns:
        The chosen strength (0 when the split holds no test user).

    """
    validation, split = holdout_split(train)
    if len(split.test_users) == 0:
        return 0.0
    users = sample_users(split.test_users, MAX_VALIDATION_USERS, np.random.default_rng(seed))
    hybrid = make_hybrid()
    hybrid.fit(validation)
    rows, ranked = hybrid.ranked(users, None)
    return choose_calibration(hybrid, ranked, rows, sp.csr_matrix(split.test[users]))
