"""One evaluation on a tiny synthetic world: every metric present, the oracle on top."""

from discorecs.app.evaluation.runner import ORACLE, collect, evaluate_once
from discorecs.app.evaluation.world import WorldSpec, build_world
from spark_jobs.scoring.rankers.activity import RecentActivity
from spark_jobs.scoring.rankers.content import ContentBased
from spark_jobs.scoring.rankers.friend_rule import FriendRule
from spark_jobs.scoring.rankers.popular import MostPopular


def test_tiny_world_all_metrics_and_the_oracle_is_the_ceiling() -> None:
    world = build_world(WorldSpec(users=400, releases=3000, events_per_user=120), seed=5)
    lines: list[str] = []
    evaluation = evaluate_once(
        world.interactions,
        [MostPopular(), ContentBased(), FriendRule()],
        world=world,
        echo=lines.append,
    )
    assert set(evaluation.metrics) == {"most_popular", "content", "friend_rule", ORACLE}
    popular = evaluation.metrics["most_popular"]
    assert set(popular) == {
        "recall@10",
        "ndcg@10",
        "hit_rate@10",
        "coverage@10",
        "gini@10",
        "novelty@10",
        "calibration_ckl@10",
        "cold_recall@10",
    }
    oracle = evaluation.metrics[ORACLE]["recall@10"]
    assert all(oracle >= m["recall@10"] for m in evaluation.metrics.values())
    assert evaluation.friend_quality is not None and 0 < evaluation.friend_quality <= 1.0
    assert lines[0].startswith("split:")
    names = [r.name for r in collect([evaluation, evaluation])]
    assert names[-1] == "friend" and "oracle" in names


def test_rankers_are_skipped_without_the_content_or_activity_they_need() -> None:
    world = build_world(WorldSpec(users=200, releases=1000, events_per_user=80), seed=1)
    data = world.interactions
    plain = type(data)(
        data.user_ids, data.item_ids, data.users, data.items, data.times, data.weights
    )
    evaluation = evaluate_once(
        plain, [MostPopular(), ContentBased(), RecentActivity()], echo=lambda _: None
    )
    assert set(evaluation.metrics) == {"most_popular"}
    assert "needs item content" in evaluation.skipped["content"]
    assert "needs activity" in evaluation.skipped["activity"]
