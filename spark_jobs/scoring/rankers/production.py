"""The production ranker's make-up: which sources the hybrid fuses, built the same everywhere.

The hourly job and ``discorecs evaluate`` both call :func:`production_sources`, so what is
measured is what is served.
"""

from __future__ import annotations

from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.rankers.base import Ranker
from spark_jobs.scoring.rankers.content import ContentBased
from spark_jobs.scoring.rankers.ease import EASE
from spark_jobs.scoring.rankers.implicit_mf import IALS
from spark_jobs.scoring.rankers.itemknn import ItemKNN
from spark_jobs.scoring.rankers.neighbours import NeighbourTopN
from spark_jobs.scoring.rankers.trending import Trending


def production_sources(tuning: ScoringSettings, seed: int = 0) -> list[Ranker]:
    """Fresh, unfitted source rankers of the hybrid."""
    return [
        NeighbourTopN(tuning),
        ItemKNN(),
        EASE(),
        IALS(random_state=seed),
        ContentBased(),
        Trending(),
    ]
