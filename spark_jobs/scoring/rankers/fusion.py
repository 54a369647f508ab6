"""Choosing the hybrid's fusion weights and calibration strength on a validation split.

The training data is split again by the evaluation's own rule (each user's latest 20 % held
out, users with 2-4 items holding out their latest as the cold-start set); the hybrid's
sources are fitted on the rest, and their candidate lists are computed once. Coordinate ascent
then scales one source weight at a time by a few factors, keeping a change only when the
validation Recall@10 rises (NDCG@10 breaks ties); warm and cold users are tuned apart. The
calibration strength is the largest of :data:`CALIBRATION_GRID` whose NDCG@10 stays within
:data:`NDCG_TOLERANCE` of the uncalibrated list's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import Ranker, TrainData
from spark_jobs.scoring.rankers.hybrid import Candidates, FusionParameters, Hybrid, Weights, fuse
from spark_jobs.scoring.rankers.metrics import ndcg_at_k, recall_at_k
from spark_jobs.scoring.rankers.split import Split, temporal_split

FACTORS = (0.0, 0.25, 0.5, 2.0, 4.0)
PASSES = 2
CALIBRATION_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
NDCG_TOLERANCE = 0.03
"""Largest relative NDCG@10 loss the calibration may cost on validation."""
MAX_VALIDATION_USERS = 4000
LIST_LENGTH = 10


def recall_ndcg(recs: np.ndarray, test: sp.csr_matrix) -> tuple[float, float]:
    """(Recall@10, NDCG@10): compared as a pair, recall first."""
    return recall_at_k(recs, test, LIST_LENGTH), ndcg_at_k(recs, test, LIST_LENGTH)


def holdout_split(train: TrainData) -> tuple[TrainData, Split]:
    """The training data split again: what the sources fit on, and the validation split.

    The activity matrix has no times, so it is passed on whole: the validation sources may see
    a little activity from after their cut (a small optimism, the same for every weighting).
    """
    split = temporal_split(train.user_items, train.added_at)
    fitted = TrainData(split.train, split.train_added_at, split.now, train.content, train.activity)
    return fitted, split


def _sample(users: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if len(users) <= MAX_VALIDATION_USERS:
        return users
    return np.sort(rng.choice(users, MAX_VALIDATION_USERS, replace=False))


def _quality(
    candidates: Candidates, weights: Weights, test: sp.csr_matrix, n_items: int
) -> tuple[float, float]:
    ids, _ = fuse(candidates, [weights] * test.shape[0], n_items, LIST_LENGTH)
    return recall_ndcg(ids, test)


def ascend(candidates: Candidates, test: sp.csr_matrix, n_items: int) -> dict[str, float]:
    """Weights of the sources that maximise validation Recall@10 (NDCG@10 on ties)."""
    weights = {source: 1.0 for source in candidates.lists}
    best = _quality(candidates, weights, test, n_items)
    for _ in range(PASSES):
        for source in list(weights):
            base = weights[source]
            for factor in FACTORS:
                trial = {**weights, source: base * factor if base else factor}
                if not any(trial.values()):
                    continue
                quality = _quality(candidates, trial, test, n_items)
                if quality > best:
                    best, weights = quality, trial
    return weights


def choose_calibration(
    hybrid: Hybrid,
    candidates: Candidates,
    weights: Weights,
    rows: sp.csr_matrix,
    test: sp.csr_matrix,
) -> float:
    """The strongest calibration whose validation NDCG@10 loss stays within the tolerance."""
    fused = fuse(candidates, [weights] * rows.shape[0], hybrid.train.n_items, hybrid.depth)
    plain = recall_ndcg(hybrid.rerank(fused, rows, LIST_LENGTH, 0.0)[0], test)[1]
    chosen = 0.0
    for strength in CALIBRATION_GRID[1:]:
        ndcg = recall_ndcg(hybrid.rerank(fused, rows, LIST_LENGTH, strength)[0], test)[1]
        if ndcg >= (1.0 - NDCG_TOLERANCE) * plain:
            chosen = strength
    return chosen


def tune(
    make_sources: Callable[[], Sequence[Ranker]], train: TrainData, depth: int, seed: int = 0
) -> FusionParameters:
    """Fit the sources on a validation split of ``train`` and choose the fusion parameters.

    Args:
        make_sources: Builds fresh source rankers.
        train: The training data (split again here; the test data is never seen).
        depth: Items per source and fused candidates, as the hybrid will use.
        seed: Seed of the validation user sample.

    Returns:
        The chosen weights (warm and cold) and calibration strength.

    """
    rng = np.random.default_rng(seed)
    validation, split = holdout_split(train)
    hybrid = Hybrid(make_sources(), FusionParameters({}, {}), depth)
    hybrid.fit(validation)
    chosen: dict[str, dict[str, float]] = {}
    calibration = 0.0
    for segment, users in (("warm", split.test_users), ("cold", split.cold_users)):
        users = _sample(users, rng)
        if len(users) == 0:
            chosen[segment] = {s.name: 1.0 for s in hybrid.sources}
            continue
        candidates = hybrid.candidates(users, None)
        test = sp.csr_matrix(split.test[users])
        chosen[segment] = ascend(candidates, test, train.n_items)
        if segment == "warm":
            rows = sp.csr_matrix(validation.user_items[users])
            calibration = choose_calibration(hybrid, candidates, chosen[segment], rows, test)
    return FusionParameters(chosen["warm"], chosen["cold"], calibration)
