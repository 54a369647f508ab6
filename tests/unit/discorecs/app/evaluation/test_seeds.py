from discorecs.app.evaluation.seeds import SeedRun, default_jobs, run_seeds
from discorecs.app.evaluation.world import WorldSpec
from discorecs.core.settings import ScoringSettings

SPEC = WorldSpec(users=200, releases=1500, events_per_user=40)


def runs(seeds: int) -> list[SeedRun]:
    return [SeedRun(s, SPEC, None, ScoringSettings(), False, 1) for s in range(seeds)]


def test_seeds_in_processes_give_the_results_of_seeds_in_turn_in_seed_order():
    apart = run_seeds(runs(2), jobs=2)
    in_turn = run_seeds(runs(2), jobs=1)
    for a, b in zip(apart, in_turn, strict=True):
        assert a.evaluation.metrics["most_popular"] == b.evaluation.metrics["most_popular"]
        assert a.evaluation.metrics["content"] == b.evaluation.metrics["content"]
    assert apart[0].evaluation.metrics != apart[1].evaluation.metrics
    assert apart[0].calibration == ScoringSettings().calibration


def test_one_process_a_seed_at_most_one_a_core():
    assert default_jobs(1) == 1
    assert 1 <= default_jobs(64) < 64
