"""The production ranker's make-up: which sources the hybrid ranks, built the same everywhere.

The hourly job and ``discorecs evaluate`` both call :func:`production_sources` and
:func:`production_hybrid`, so what is measured is what is served.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.friends import TasteIndex, VectorIndex
from spark_jobs.scoring.rankers.activity import RecentActivity
from spark_jobs.scoring.rankers.base import Ranker
from spark_jobs.scoring.rankers.content import ContentBased
from spark_jobs.scoring.rankers.ease import EASE
from spark_jobs.scoring.rankers.hybrid import Hybrid
from spark_jobs.scoring.rankers.neighbours import NeighbourTopN
from spark_jobs.scoring.rankers.trending import Trending


def production_sources(
    tuning: ScoringSettings,
    tastes: tuple[np.ndarray, TasteIndex] | None = None,
    start: VectorIndex | None = None,
) -> list[Ranker]:
    """Fresh, unfitted source rankers of the hybrid.

    ItemKNN is not among them: the hybrid ranked as well without its candidates
    (``discorecs evaluate``, 20 000 users, 3 seeds: Recall@10 0.2633 against 0.2634, NDCG
    0.2231 both, coverage 0.317 against 0.314), which cost a sixth of the lists' time and two
    fits of 20-33 CPU-s at 1M users. It stays in the evaluation as a ranker of its own.

    Args:
        tuning: The scoring settings.
        tastes: Every user's taste and its index, when already computed (the hourly job's):
            the neighbour source uses them instead of computing its own.
        start: Otherwise, an index of mostly the same tastes that the neighbour source extends
            a copy of rather than building its own (:class:`.neighbours.NeighbourTopN`).

    """
    taste, index = tastes or (None, None)
    return [
        NeighbourTopN(tuning, taste, index, start),
        EASE(),
        ContentBased(activity_weight=tuning.content_activity_weight),
        RecentActivity(),
        Trending(),
    ]


def production_hybrid(
    tuning: ScoringSettings,
    seed: int = 0,
    sources: list[Ranker] | None = None,
    model: lgb.Booster | None = None,
    start: VectorIndex | None = None,
) -> Hybrid:
    """The hybrid the hourly job serves.

    Args:
        tuning: The scoring settings (calibration strength, candidate and re-rank depths,
            model threads).
        seed: Seed of the ranking model.
        sources: Source rankers to rank (default: fresh :func:`production_sources`); sources
            already fitted on the data the hybrid is fitted on are not fitted again.
        model: A ranking model learnt earlier, kept when its features match
            (:attr:`Hybrid.reused`).
        start: The taste index the validation split's neighbour source extends a copy of
            (the hourly run's: the split holds out a sample of users' items only, so most
            tastes are the run's), rather than building one.

    """
    return Hybrid(
        sources if sources is not None else production_sources(tuning),
        lambda: production_sources(tuning, start=start),
        tuning.calibration,
        tuning.hybrid_depth,
        tuning.hybrid_rerank_depth,
        seed=seed,
        threads=tuning.hybrid_threads,
        model=model,
    )
