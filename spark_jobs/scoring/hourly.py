"""The hourly run on Spark + Cassandra: read, score with :mod:`.compute`, write, clear staging."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pyspark.sql import SparkSession

from discorecs.core.cassandra import session_scope
from discorecs.core.logs import get_logger
from discorecs.core.settings import Settings
from discorecs.core.timing import StepHook, StepTimer
from spark_jobs.scoring.compute import score
from spark_jobs.scoring.readers import (
    activity_loader,
    collection_loader,
    read_release_features,
    read_stored,
)
from spark_jobs.scoring.writers import (
    BatchRunLog,
    clear_staged_buckets,
    score_releases,
    write_rank_updates,
    write_scores,
)

log = get_logger("scoring")


@dataclass
class HourlyResult:
    """What one run did: per-step seconds and the counts that matter."""

    run_id: str
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    recall: float = 1.0


def current_hour(now: datetime | None = None) -> datetime:
    """Start of the current UTC hour (the newest ``changed_users`` bucket a run reads)."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def recording_hook(runs: BatchRunLog) -> StepHook:
    """A step hook that logs each step and records it in ``batch_runs``."""
    run_id = str(runs.run_id)

    def hook(name: str, rows: int, seconds: float, error: BaseException | None) -> None:
        if error is None:
            runs.record(name, "ok", rows, seconds)
            log.info("step_done", run_id=run_id, step=name, rows=rows, seconds=seconds)
        else:
            runs.record(name, "failed", 0, seconds, repr(error)[:1000])
            log.error("step_failed", run_id=run_id, step=name, error=repr(error))

    return hook


def run_hourly(
    settings: Settings,
    *,
    spark: SparkSession | None = None,
    now: datetime | None = None,
    full: bool = False,
) -> HourlyResult:
    """Run the hourly steps in order, stopping at the first failure.

    Steps: ``release_scores`` → ``read_state`` (staged users, stored scores, release features)
    → the steps of :func:`compute.score` (collections of the staged and never-scored users,
    their tastes, ranks, HNSW friends of the affected users with the recall@1 check,
    recommendations) → ``write`` → ``clear_staged``. Each step is logged and recorded in
    ``batch_runs`` (pipeline ``hourly``). Re-running the same hour is idempotent: the staged
    rows read were cleared, but for those written within ``scoring.staging_margin_s`` of the
    read, which are scored again next run.

    Args:
        settings: Cluster, keyspace and the scoring settings.
        spark: Session to use (built with :func:`spark_jobs.session.spark_session` if omitted).
        now: Run time (defaults to the current time, UTC).
        full: Rescore every user, not only the staged and affected ones.

    Returns:
        Per-step seconds and counts.

    """
    from spark_jobs.session import spark_session

    now = now or datetime.now(UTC)
    spark = spark or spark_session(settings, "discorecs-hourly")
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    with session_scope(settings) as session:
        runs = BatchRunLog(session, settings.keyspace)
        step = StepTimer(recording_hook(runs))
        result = HourlyResult(str(runs.run_id), seconds=step.seconds)
        counts = result.counts
        with step("release_scores", lambda: counts["release_scores_new"]):
            counts["release_scores_new"] = score_releases(spark, settings, now)
        with step("read_state", lambda: counts["users"] + counts["releases"]):
            stored = read_stored(spark, settings, current_hour(now))
            release_ids, features = read_release_features(spark, settings, now)
            counts["users"], counts["releases"] = len(stored.user_ids), len(release_ids)
        counts["staged"] = len(stored.staged)
        scores = score(
            features,
            stored.state,
            stored.changed_rows,
            collection_loader(spark, settings, stored.user_ids, release_ids),
            tuning=settings.scoring,
            full=full,
            activity=activity_loader(spark, settings, stored.user_ids),
            step=step,
        )
        counts.update(scores.counts)
        result.recall = scores.recall
        log.info(
            "ann_recall",
            run_id=result.run_id,
            recall_at_1=scores.recall,
            sample=scores.recall_sample,
        )
        with step("write", len(scores.rescored)):
            counts["written"] = write_scores(spark, settings, stored, release_ids, scores, now)
            counts["ranks_updated"] = write_rank_updates(spark, settings, stored, scores)
        with step("clear_staged", len(stored.staged)):
            margin = timedelta(seconds=settings.scoring.staging_margin_s)
            written_before = stored.read_at - int(margin.total_seconds() * 1e6)
            counts["staged_buckets_cleared"] = clear_staged_buckets(
                session, settings.keyspace, {bucket for bucket, _ in stored.staged}, written_before
            )
        log.info("hourly_done", run_id=result.run_id, recall_at_1=result.recall, **counts)
    return result
