"""The hourly run on Spark + Cassandra: read, score, recommend with the hybrid, write, check.

Steps, each timed, logged and recorded in ``batch_runs``: ``read_releases``, ``read_users``,
``read_owned`` (every release, staged users, the profiles' ids and stored scores, every
collection; with a trusted snapshot of the last run, :mod:`.snapshot`, no profile, no stored
score and only the staged users' collections: the stream stages every new profile) →
``release_scores`` (weights of the releases missing from ``release_scores``: an anti-join of
the two tables, or with the snapshot the releases that run did not read) → the rules of
:func:`compute.score` (tastes, ranks, HNSW friends and the friend rule for the staged and
affected users) → ``hybrid_fit`` and ``hybrid_recommend`` (the production top-10 of
the rescored users, :func:`~spark_jobs.scoring.rankers.production.production_hybrid`; its
ranking model is reused for ``scoring.hybrid_model_hours``, :mod:`.ranking_models`) →
``online_check`` (the adds since each staged user's last list, against it and against the most
popular) → ``write`` (``users_scored``, moved genre ranks, ``quality_runs``) → ``clear_staged``
→ ``snapshot`` (what the tables now hold, saved for the next run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from cassandra.cluster import Session
from pyspark.sql import SparkSession

from discorecs.core.cassandra import session_scope
from discorecs.core.logs import get_logger
from discorecs.core.settings import Settings
from discorecs.core.timing import ProgressLog, StepHook, StepTimer
from spark_jobs.scoring.compute import Scores, score
from spark_jobs.scoring.huge_pages import use_huge_pages
from spark_jobs.scoring.item_models import item_models, restore_item_models, save_item_models
from spark_jobs.scoring.quality import OnlineCheck, online_check
from spark_jobs.scoring.rankers.base import TrainData, recommend_in_parts
from spark_jobs.scoring.rankers.production import production_hybrid, production_sources
from spark_jobs.scoring.ranking_models import read_ranking_model, write_ranking_model
from spark_jobs.scoring.readers import (
    ActivityReads,
    Owned,
    Releases,
    Stored,
    read_owned,
    read_releases,
    read_stored,
)
from spark_jobs.scoring.recommend import Ranked
from spark_jobs.scoring.snapshot import STEP as SNAPSHOT_STEP
from spark_jobs.scoring.snapshot import RunSnapshot, after_run, trusted_snapshot
from spark_jobs.scoring.writers import (
    BatchRunLog,
    clear_staged_buckets,
    rank_updates,
    score_releases,
    write_quality,
    write_rank_updates,
    write_scores,
)

log = get_logger("scoring")


@dataclass
class HourlyResult:
    """What one run did: per-step seconds, the counts that matter, the online check."""

    run_id: str
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    recall: float = 1.0
    check: OnlineCheck | None = None


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


def hybrid_lists(
    session: Session,
    settings: Settings,
    releases: Releases,
    owned: Owned,
    scores: Scores,
    activity_of: ActivityReads,
    step: StepTimer,
    now: datetime,
) -> tuple[Ranked, dict[str, int]]:
    """Fit the production hybrid on every collection and list the ``scores.listed`` rows' top-n.

    The newest ranking model younger than ``scoring.hybrid_model_hours`` is reused
    (:mod:`.ranking_models`), and the item-to-item sources' fit younger than
    ``scoring.item_model_hours`` (:mod:`.item_models`); otherwise each is learnt and stored.
    ``scores`` gives the run's tastes and the rows to list (:func:`relisted`); their recent
    activity comes from ``activity_of``, which the taste step has usually read already.

    Returns:
        The lists, and the counts ``ranking_model_reused`` and ``item_models_reused`` (0 or 1).

    """
    listed = scores.listed
    if not len(releases.ids):  # no catalogue yet: nothing to list, nothing to learn from
        shape = (len(listed), settings.scoring.list_length)
        empty = Ranked(np.full(shape, -1, dtype=np.int64), np.full(shape, np.nan, np.float32))
        return empty, {"ranking_model_reused": 0, "item_models_reused": 0}
    profiled = listed
    if settings.scoring.content_activity_weight <= 0:
        sizes = np.diff(owned.user_items.indptr)[listed]
        profiled = listed[sizes <= settings.scoring.cold_items]
    with step("read_hybrid_activity", len(profiled)):
        activity, activity_at = activity_of(profiled)
    train = TrainData(
        owned.user_items,
        owned.added_at,
        float(owned.added_at.data.max(initial=0.0)),
        releases.content,
        activity,
        activity_at,
    )
    hours = settings.scoring.hybrid_model_hours
    since = (now - timedelta(hours=hours)).astimezone(UTC).replace(tzinfo=None)
    earlier = read_ranking_model(session, settings.keyspace, since) if hours > 0 else None
    sources = production_sources(settings.scoring, (scores.taste, scores.index))
    models = item_models(sources)
    folder, item_hours = settings.snapshot_path, settings.scoring.item_model_hours
    restored = restore_item_models(folder, models, train, releases.ids, item_hours, now)
    hybrid = production_hybrid(
        settings.scoring, sources=sources, model=earlier, start=scores.index.vectors
    )
    with step("hybrid_fit", owned.user_items.nnz):
        hybrid.fit(train)
        if not restored and item_hours > 0:
            save_item_models(folder, models, releases.ids, now)
    if not hybrid.reused and hybrid.model is not None:
        write_ranking_model(session, settings.keyspace, hybrid.model, now)
    with step("hybrid_recommend", len(listed)):
        tuning, progress = settings.scoring, ProgressLog("hybrid_recommend", len(listed))
        ids, values = recommend_in_parts(
            hybrid, listed, tuning.list_length, tuning.list_threads, progress=progress
        )
    reused = {"ranking_model_reused": int(hybrid.reused), "item_models_reused": int(restored)}
    return Ranked(ids, values), reused


def relisted(stored: Stored, rescored: np.ndarray, full: bool) -> np.ndarray:
    """The rescored rows whose recommendations are made again this run.

    A user whose collection did not change keeps their list (it owes nothing to the friend
    that may have changed); staged users, users never listed and, in a ``full`` run, every
    rescored user are listed.
    """
    if full:
        return rescored
    again = np.isin(rescored, stored.changed_rows) | np.isnan(stored.scored_at[rescored])
    return rescored[again]


def read_state(
    spark: SparkSession,
    settings: Settings,
    now: datetime,
    earlier: RunSnapshot | None,
    step: StepTimer,
) -> tuple[RunSnapshot | None, Stored, Releases, Owned]:
    """The snapshot used, staged users, stored scores, releases and collections to start from.

    Steps ``read_releases``, ``read_users`` and ``read_owned``. With a trusted snapshot of the
    last run (:mod:`.snapshot`) that :meth:`~.snapshot.RunSnapshot.covers` the catalogue read,
    neither ``users`` nor ``users_scored`` is read, and only the collections of the users
    staged now are (see :mod:`.snapshot` for why that is enough); otherwise everything is read
    and the snapshot returned is None.
    """
    with step("read_releases", lambda: len(releases.ids)):
        releases = read_releases(spark, settings, now)
    if earlier is not None and not earlier.covers(releases.ids):
        log.info("snapshot_not_used", reason="a release with owners joined or left the catalogue")
        earlier = None
    with step("read_users", lambda: len(stored.user_ids)):
        stored = read_stored(
            spark, settings, current_hour(now), earlier.stored if earlier else None
        )
    with step("read_owned", lambda: owned.user_items.nnz):
        if earlier is None:
            owned = read_owned(spark, settings, stored.user_ids, releases.ids)
        else:
            staged = stored.changed_rows
            fresh = read_owned(spark, settings, stored.user_ids, releases.ids, staged)
            owned = earlier.owned_now(stored.user_ids, releases.ids, staged, fresh)
    return earlier, stored, releases, owned


def run_hourly(
    settings: Settings,
    *,
    spark: SparkSession | None = None,
    now: datetime | None = None,
    full: bool = False,
) -> HourlyResult:
    """Run the hourly steps in order (module docstring), stopping at the first failure.

    Re-running the same hour is idempotent: the staged rows read were cleared, but for those
    written within ``scoring.staging_margin_s`` of the read, which are scored again next run.

    Args:
        settings: Cluster, keyspace and the scoring settings.
        spark: Session to use (built with :func:`spark_jobs.session.spark_session` if omitted).
        now: Run time (defaults to the current time, UTC).
        full: Rescore every user, not only the staged and affected ones.

    Returns:
        Per-step seconds, counts and the online check.

    """
    from spark_jobs.session import spark_session

    use_huge_pages(settings.scoring.numpy_huge_pages)
    now = now or datetime.now(UTC)
    spark = spark or spark_session(settings, "discorecs-hourly")
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    with session_scope(settings) as session:
        runs = BatchRunLog(session, settings.keyspace)
        step = StepTimer(recording_hook(runs))
        result = HourlyResult(str(runs.run_id), seconds=step.seconds)
        counts = result.counts
        earlier = trusted_snapshot(
            session,
            settings.keyspace,
            settings.snapshot_path,
            runs,
            settings.scoring.snapshot_hours,
            now,
        )
        earlier, stored, releases, owned = read_state(spark, settings, now, earlier, step)
        counts["snapshot_used"] = int(earlier is not None)
        with step("release_scores", lambda: counts["release_scores_new"]):
            fresh = None
            if earlier is not None:
                fresh = (np.setdiff1d(releases.ids, earlier.release_ids), len(releases.ids))
            counts["release_scores_new"] = score_releases(spark, settings, now, fresh)
        counts["users"], counts["releases"] = len(stored.user_ids), len(releases.ids)
        counts["staged"] = len(stored.staged)
        collections = owned.collections()
        activity_of = ActivityReads(spark, settings, stored.user_ids, releases.ids)
        scores = score(
            releases.features(owned.owners()),
            stored.state,
            stored.changed_rows,
            lambda _rows: collections,
            tuning=settings.scoring,
            full=full,
            activity=lambda rows: activity_of(rows)[0][rows],
            step=step,
            earlier_index=earlier.index if earlier is not None else None,
            lists=False,
        )
        counts.update(scores.counts)
        result.recall = scores.recall
        log.info(
            "ann_recall",
            run_id=result.run_id,
            recall_at_1=scores.recall,
            sample=scores.recall_sample,
        )
        scores.listed = relisted(stored, scores.rescored, full)
        counts["listed"] = len(scores.listed)
        scores.recommendations, reused = hybrid_lists(
            session, settings, releases, owned, scores, activity_of, step, now
        )
        counts.update(reused)
        with step("online_check", len(stored.changed_rows)):
            added_before = None
            if earlier is not None:
                added_before = earlier.added_at_of(
                    stored.user_ids, releases.ids, stored.changed_rows
                )
            result.check = online_check(
                owned.user_items,
                owned.added_at,
                stored.changed_rows,
                stored.scored_at,
                stored.recommended,
                releases.ids,
                settings.scoring.list_length,
                added_before,
            )
        with step("write", len(scores.rescored)):
            counts["written"] = write_scores(spark, settings, stored, releases, scores, now, step)
            rank_rows = rank_updates(stored, scores, settings.scoring.rank_tolerance)
            counts["ranks_updated"] = write_rank_updates(spark, settings, stored, scores, rank_rows)
            write_quality(session, settings.keyspace, runs.run_id, result.check.figures())
        with step("clear_staged", len(stored.staged)):
            margin = timedelta(seconds=settings.scoring.staging_margin_s)
            written_before = stored.read_at - int(margin.total_seconds() * 1e6)
            counts["staged_buckets_cleared"] = clear_staged_buckets(
                session, settings.keyspace, stored.staged.buckets, written_before
            )
        if settings.scoring.snapshot_hours > 0:
            with step(SNAPSHOT_STEP, len(stored.user_ids)):
                snapshot = after_run(
                    runs.run_id,
                    now,
                    stored,
                    releases.ids,
                    owned,
                    scores,
                    rank_rows,
                    earlier.full_read_at if earlier is not None else now,
                )
                snapshot.save(settings.snapshot_path)
        log.info(
            "hourly_done",
            run_id=result.run_id,
            recall_at_1=result.recall,
            hit_share=result.check.share,
            hit_share_most_popular=result.check.popular_share,
            **counts,
        )
    return result
