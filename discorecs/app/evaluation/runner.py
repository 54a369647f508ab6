"""Fit every ranker on one temporal split, score its lists, repeat over seeds.

Protocol (Krichene & Rendle 2020: no sampled negatives): each user with at least 5 items
holds out the latest 20 % by add time; users with 2-4 items hold out their latest one and form
the cold-start set (1-3 training items); everything else is training. Every ranker ranks the
whole catalogue for each test user, training items excluded, and the lists are scored against
the held-out items.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from discorecs.app.evaluation.interactions import Interactions
from discorecs.app.evaluation.report import RankerResult
from discorecs.app.evaluation.world import SyntheticWorld
from spark_jobs.scoring.rankers import metrics
from spark_jobs.scoring.rankers.base import Ranker, TrainData
from spark_jobs.scoring.rankers.split import Split, temporal_split

LIST_LENGTH = 10
ORACLE = "oracle"
FRIEND = "friend"
Echo = Callable[[str], None]


@dataclass(frozen=True)
class Evaluation:
    """What one seed produced: each ranker's metrics and seconds, skips, the friend quality."""

    metrics: dict[str, dict[str, float]]
    seconds: dict[str, float]
    skipped: dict[str, str]
    friend_quality: float | None
    order: list[str]


def train_data(data: Interactions, split: Split) -> TrainData:
    """What the rankers may learn from: the training part, content, activity before each cut."""
    activity, activity_at = data.activity_before(split.cuts())
    return TrainData(
        user_items=split.train,
        added_at=split.train_added_at,
        now=split.now,
        content=data.content,
        activity=activity,
        activity_at=activity_at,
    )


def list_metrics(
    recs: np.ndarray, cold_recs: np.ndarray | None, split: Split, train: TrainData
) -> dict[str, float]:
    """Every metric of one ranker's lists (the cold-start lists scored apart)."""
    k = LIST_LENGTH
    test = split.test_rows()
    owned = np.flatnonzero(np.diff(sp.csc_matrix(split.train).indptr) > 0)
    scored = {
        "recall@10": metrics.recall_at_k(recs, test, k),
        "ndcg@10": metrics.ndcg_at_k(recs, test, k),
        "hit_rate@10": metrics.hit_rate_at_k(recs, test, k),
        "coverage@10": metrics.item_coverage_at_k(recs, owned, k),
        "gini@10": metrics.gini_of_exposure(recs, train.n_items, k),
        "novelty@10": metrics.novelty(recs, split.train, k),
    }
    if train.content is not None:
        history = sp.csr_matrix(split.train[split.test_users])
        scored["calibration_ckl@10"] = metrics.calibration_ckl(
            recs, history, train.content.genres, k=k
        )
    if cold_recs is not None and len(split.cold_users):
        cold_test = sp.csr_matrix(split.test[split.cold_users])
        scored["cold_recall@10"] = metrics.recall_at_k(cold_recs, cold_test, k)
    return scored


def _lists(ranker: Ranker, split: Split) -> tuple[np.ndarray, np.ndarray | None]:
    recs, _ = ranker.recommend(split.test_users, LIST_LENGTH)
    cold = None
    if len(split.cold_users):
        cold, _ = ranker.recommend(split.cold_users, LIST_LENGTH)
    return recs, cold


def _oracle_lists(world: SyntheticWorld, split: Split) -> tuple[np.ndarray, np.ndarray | None]:
    def ranked(users: np.ndarray) -> np.ndarray:
        train = sp.csr_matrix(split.train)
        exclude = [train.indices[train.indptr[u] : train.indptr[u + 1]] for u in users.tolist()]
        return world.oracle(users, exclude, LIST_LENGTH)[0]

    cold = ranked(split.cold_users) if len(split.cold_users) else None
    return ranked(split.test_users), cold


def _missing_input(ranker: Ranker, data: Interactions) -> str | None:
    """What ``ranker`` needs that ``data`` lacks (None when nothing)."""
    if ranker.needs_content and data.content is None:
        return "item content"
    if ranker.needs_activity and data.activity is None:
        return "activity"
    return None


def evaluate_once(
    data: Interactions,
    rankers: Sequence[Ranker],
    *,
    world: SyntheticWorld | None = None,
    echo: Echo = print,
) -> Evaluation:
    """Split once, fit and score every ranker (and the oracle on a synthetic world).

    Args:
        data: The interactions.
        rankers: The rankers; those that need content are skipped without it.
        world: The synthetic world behind ``data``, for the oracle and friend quality.
        echo: Where progress lines go.

    Returns:
        Each ranker's metrics and seconds (fit + lists), and the friend quality.

    """
    user_items, added_at = data.matrices()
    split = temporal_split(user_items, added_at)
    train = train_data(data, split)
    echo(
        f"split: {split.train.nnz} training pairs, {len(split.test_users)} test users "
        f"({split.test.nnz - len(split.cold_users)} held out), "
        f"{len(split.cold_users)} cold-start users"
    )
    scored: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    skipped: dict[str, str] = {}
    friend_quality = None
    for ranker in rankers:
        missing = _missing_input(ranker, data)
        if missing:
            skipped[ranker.name] = f"needs {missing}; these interactions have none"
            echo(f"  {ranker.name:<16} skipped: {skipped[ranker.name]}")
            continue
        started = time.perf_counter()
        ranker.fit(train)
        recs, cold = _lists(ranker, split)
        seconds[ranker.name] = time.perf_counter() - started
        scored[ranker.name] = list_metrics(recs, cold, split, train)
        echo(
            f"  {ranker.name:<16} recall@10={scored[ranker.name]['recall@10']:.4f} "
            f"seconds={seconds[ranker.name]:.1f}"
        )
        friends = getattr(ranker, "friend", None)
        if world is not None and friends is not None and friend_quality is None:
            friend_quality = world.friend_quality(split.test_users, friends[split.test_users])
    if world is not None:
        started = time.perf_counter()
        recs, cold = _oracle_lists(world, split)
        seconds[ORACLE] = time.perf_counter() - started
        scored[ORACLE] = list_metrics(recs, cold, split, train)
        echo(f"  {ORACLE:<16} recall@10={scored[ORACLE]['recall@10']:.4f}")
    order = [r.name for r in rankers] + ([ORACLE] if world is not None else [])
    return Evaluation(scored, seconds, skipped, friend_quality, order)


def collect(evaluations: Sequence[Evaluation]) -> list[RankerResult]:
    """One :class:`RankerResult` per ranker, its metrics gathered over the seeds."""
    results: dict[str, RankerResult] = {}
    for evaluation in evaluations:
        for name in evaluation.order:
            results.setdefault(name, RankerResult(name))
        for name, reason in evaluation.skipped.items():
            results.setdefault(name, RankerResult(name)).skipped = reason
        for name, scored in evaluation.metrics.items():
            results.setdefault(name, RankerResult(name)).add(
                scored, evaluation.seconds.get(name, float("nan"))
            )
        if evaluation.friend_quality is not None:
            results.setdefault(FRIEND, RankerResult(FRIEND)).add(
                {"friend_quality": evaluation.friend_quality}, float("nan")
            )
    return list(results.values())
