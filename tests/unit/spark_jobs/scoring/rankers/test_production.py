from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.rankers.production import production_hybrid, production_sources


def test_the_served_hybrid_ranks_the_production_sources_with_the_settings():
    tuning = ScoringSettings(calibration=0.2, hybrid_depth=50)
    hybrid = production_hybrid(tuning)
    names = [s.name for s in production_sources(tuning)]
    assert [s.name for s in hybrid.sources] == names
    assert [s.name for s in hybrid.make_sources()] == names
    assert (hybrid.calibration, hybrid.depth) == (0.2, 50)
