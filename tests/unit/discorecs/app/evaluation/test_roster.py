"""The roster: every ranker once, the production hybrid fusing the very rankers listed before it."""

import numpy as np

from discorecs.app.evaluation.roster import (
    PRODUCTION,
    Remembered,
    ServedHybrid,
    Uncalibrated,
    roster,
)
from discorecs.app.evaluation.runner import evaluate_once, train_data
from discorecs.app.evaluation.world import WorldSpec, build_world
from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.rankers.production import production_sources
from spark_jobs.scoring.rankers.split import temporal_split


def test_names_are_unique_and_the_hybrid_comes_last() -> None:
    names = [r.name for r in roster(0)]
    assert len(names) == len(set(names))
    assert names[-2:] == [PRODUCTION, f"{PRODUCTION}_uncalibrated"]


def test_the_hybrid_ranks_the_listed_rankers_with_the_settings_calibration() -> None:
    tuning = ScoringSettings(calibration=0.2)
    rankers = roster(0, tuning)
    served = next(r for r in rankers if isinstance(r, ServedHybrid))
    assert all(any(source is r for r in rankers) for source in served.hybrid.sources)
    assert served.calibration == 0.2
    assert isinstance(rankers[-1], Uncalibrated) and rankers[-1].served is served


def test_each_source_is_fitted_once_on_the_split() -> None:
    world = build_world(WorldSpec(users=300, releases=2000, events_per_user=60), seed=2)
    rankers = roster(1)
    evaluation = evaluate_once(world.interactions, rankers, world=world, echo=lambda _: None)
    served = next(r for r in rankers if isinstance(r, ServedHybrid))
    assert all(source.train is served.train for source in served.hybrid.sources)
    assert evaluation.metrics[PRODUCTION]["recall@10"] > 0


def test_a_remembered_top_10_is_the_sources_own_top_10_up_to_ties() -> None:
    world = build_world(WorldSpec(users=300, releases=2000, events_per_user=60), seed=3)
    split = temporal_split(*world.interactions.matrices())
    train = train_data(world.interactions, split)
    for source in production_sources(ScoringSettings()):
        remembered = Remembered(source, depth=100)
        remembered.fit(train)
        deep, _ = remembered.recommend(split.test_users, 100)
        ids, scores = remembered.recommend(split.test_users, 10)
        assert np.array_equal(ids, deep[:, :10])
        own = source.recommend(split.test_users, 10)[1]
        assert np.allclose(scores, own, equal_nan=True), source.name
