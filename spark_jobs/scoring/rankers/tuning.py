"""Choosing the calibration strength on a validation split of the training data.

The training data is split again by the evaluation's own rule; a fresh hybrid is fitted on the
rest (learning its own model on a split of that), and ranks the held-out users' candidates
once. The calibration strength is the weakest of :data:`CALIBRATION_GRID` that cuts the
validation miscalibration (C_KL) by :data:`CKL_CUT` while its NDCG@10 stays within
:data:`NDCG_TOLERANCE` of the uncalibrated list's; when none does, the strongest before the
first beyond the tolerance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import TrainData
from spark_jobs.scoring.rankers.hybrid import Hybrid
from spark_jobs.scoring.rankers.learned import holdout_split, sample_users
from spark_jobs.scoring.rankers.metrics import calibration_ckl, ndcg_at_k

CALIBRATION_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
NDCG_TOLERANCE = 0.03
"""Largest relative NDCG@10 loss the calibration may cost on validation."""
CKL_CUT = 0.5
"""Relative cut of C_KL the calibration aims at (then stops trading NDCG for more)."""
MAX_VALIDATION_USERS = 4000
LIST_LENGTH = 10


def sufficient_strength(
    strengths: Sequence[float], ndcg: Sequence[float], ckl: Sequence[float]
) -> float:
    """The weakest strength that cuts C_KL by :data:`CKL_CUT` within the NDCG tolerance.

    Args:
        strengths: Increasing strengths, the first 0 (the uncalibrated list).
        ndcg: Validation NDCG@10 at each strength.
        ckl: Validation C_KL at each strength.

    Returns:
        That strength; when none cuts C_KL enough, the strongest before the first beyond the
        tolerance.

    """
    chosen = strengths[0]
    for strength, gain, miscalibration in zip(strengths[1:], ndcg[1:], ckl[1:], strict=True):
        if gain < (1.0 - NDCG_TOLERANCE) * ndcg[0]:
            break
        chosen = strength
        if miscalibration <= (1.0 - CKL_CUT) * ckl[0]:
            break
    return chosen


def choose_calibration(
    hybrid: Hybrid,
    ranked: tuple[np.ndarray, np.ndarray],
    rows: sp.csr_matrix,
    test: sp.csr_matrix,
) -> float:
    """Measure every strength of :data:`CALIBRATION_GRID` and pick by :func:`sufficient_strength`.

    Args:
        hybrid: A fitted hybrid.
        ranked: Its ranked candidates of the validation users.
        rows: Their item rows.
        test: Their held-out items.

    Returns:
        The chosen strength (0 without item content: no genres to calibrate).

    """
    if hybrid.train.content is None:
        return 0.0
    genres = hybrid.train.content.genres
    lists = [hybrid.rerank(ranked, rows, LIST_LENGTH, s)[0] for s in CALIBRATION_GRID]
    ndcg = [ndcg_at_k(listed, test, LIST_LENGTH) for listed in lists]
    ckl = [calibration_ckl(listed, rows, genres) for listed in lists]
    return sufficient_strength(CALIBRATION_GRID, ndcg, ckl)


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
