"""The production ranker's make-up: which sources the hybrid fuses, built the same everywhere.

The hourly job and ``discorecs evaluate`` both call :func:`production_sources`, so what is
measured is what is served.
"""

from __future__ import annotations

from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.rankers.base import Ranker
from spark_jobs.scoring.rankers.content import ContentBased
from spark_jobs.scoring.rankers.ease import EASE
from spark_jobs.scoring.rankers.hybrid import FusionParameters, Hybrid
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
        ContentBased(activity_weight=tuning.content_activity_weight),
        Trending(),
    ]


def production_parameters(tuning: ScoringSettings) -> FusionParameters:
    """The fusion weights and calibration strength of the scoring settings."""
    return FusionParameters(
        warm=tuning.fusion_warm,
        cold=tuning.fusion_cold,
        calibration=tuning.calibration,
        cold_items=tuning.fusion_cold_items,
    )


def production_hybrid(
    tuning: ScoringSettings, seed: int = 0, sources: list[Ranker] | None = None
) -> Hybrid:
    """The hybrid the hourly job serves, with the fusion weights of the scoring settings.

    Sources weighted 0 for warm and cold users alike are left out (never fitted or asked).

    Args:
        tuning: The scoring settings.
        seed: Seed of the sources built here.
        sources: Source rankers to fuse (default: fresh :func:`production_sources`); sources
            already fitted on the data the hybrid is fitted on are not fitted again.

    """
    parameters = production_parameters(tuning)
    chosen = sources if sources is not None else production_sources(tuning, seed)
    used = [
        source
        for source in chosen
        if parameters.warm.get(source.name, 0.0) > 0 or parameters.cold.get(source.name, 0.0) > 0
    ]
    return Hybrid(used, parameters, tuning.fusion_depth)
