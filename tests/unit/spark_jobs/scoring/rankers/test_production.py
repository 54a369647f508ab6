import numpy as np

from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.friends import TasteIndex
from spark_jobs.scoring.rankers.base import recommend_in_parts
from spark_jobs.scoring.rankers.neighbours import NeighbourTopN
from spark_jobs.scoring.rankers.production import production_hybrid, production_sources
from tests.unit.spark_jobs.scoring.rankers.worlds import content, train_data


def test_the_served_hybrid_ranks_the_production_sources_with_the_settings():
    tuning = ScoringSettings(calibration=0.2, hybrid_depth=50)
    hybrid = production_hybrid(tuning)
    names = [s.name for s in production_sources(tuning)]
    assert [s.name for s in hybrid.sources] == names
    assert [s.name for s in hybrid.make_sources()] == names
    assert (hybrid.calibration, hybrid.depth) == (0.2, 50)


def test_the_validation_sources_extend_the_start_index_given():
    start = TasteIndex(np.eye(3, dtype=np.float32)).vectors
    hybrid = production_hybrid(ScoringSettings(), start=start)
    (neighbours,) = [s for s in hybrid.make_sources() if isinstance(s, NeighbourTopN)]
    assert neighbours.start is start
    assert all(getattr(s, "start", None) is None for s in hybrid.sources)


def test_the_hybrid_lists_nothing_before_anyone_owns_anything():
    tuning = ScoringSettings()
    train = train_data({}, (2, 3), item_content=content([[0], [1], [0]], decades=[199] * 3))
    hybrid = production_hybrid(tuning)
    hybrid.fit(train)
    ids, _ = recommend_in_parts(hybrid, np.arange(2), tuning.list_length, 2)
    assert ids.shape == (2, tuning.list_length)
