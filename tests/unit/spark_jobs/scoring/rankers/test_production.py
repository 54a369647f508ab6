from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.rankers.production import production_hybrid, production_parameters


def test_sources_weighted_zero_for_everyone_are_left_out():
    tuning = ScoringSettings(
        fusion_warm={"content": 1.0, "ease": 0.0}, fusion_cold={"trending": 0.5}
    )
    hybrid = production_hybrid(tuning)
    assert [s.name for s in hybrid.sources] == ["content", "trending"]
    assert hybrid.parameters == production_parameters(tuning)
