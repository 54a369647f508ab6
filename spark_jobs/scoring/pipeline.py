"""The hourly batch on Spark + Cassandra: read, score with :mod:`.compute`, write, clear staging.

Spark reads what Cassandra holds and aggregates what is big (owners of every release over all
collections, recent trending, the collections of just the users a run needs, through the
connector's direct join on the partition key); the rules themselves are
:func:`spark_jobs.scoring.compute.score`, the same code the benchmark measures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from discorecs.cassandra import session_scope
from discorecs.genres import GENRES
from discorecs.logs import get_logger
from discorecs.settings import Settings
from spark_jobs.scoring.compute import (
    K_NEIGHBOURS,
    LoadActivity,
    LoadCollections,
    Scores,
    UserState,
    score,
)
from spark_jobs.scoring.friends import AnnConfig
from spark_jobs.scoring.io import BatchRunLog, clear_staged_buckets, read_table, write_table
from spark_jobs.scoring.ranks import NO_RANK, ranks_map
from spark_jobs.scoring.recommend import Catalogue, Collections, Styles, find_sorted
from spark_jobs.scoring.taste import has_taste
from spark_jobs.scoring.weights import genre_weights, style_weights

log = get_logger("scoring")

TRENDING_HOURS = 24
STAGING_MARGIN = timedelta(seconds=10)
"""Staged rows written this shortly before they were read stay staged: a write already under
way when the scan passed its bucket may be missed by the scan, so it must not be cleared."""
RELEASE_SCORES_SCHEMA = (
    "release_id long, genre_weights array<float>, style_weights map<string,float>, "
    "scored_at timestamp"
)
USERS_SCORED_SCHEMA = (
    "user_id long, taste array<float>, top_genre string, genre_ranks map<string,int>, "
    "friend_id long, friend_similarity float, release_id long, release_title string, "
    "recommendations array<struct<release_id:long,title:string,score:float>>, "
    "collection_size int, scored_at timestamp"
)


@dataclass
class HourlyResult:
    """What one run did: per-step seconds and the counts that matter."""

    run_id: str
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    recall: float = 1.0


@dataclass
class Stored:
    """What ``users_scored`` and ``changed_users`` held at the start of the run.

    Attributes:
        user_ids: Every known user id, sorted; positions in it are the user rows.
        state: The stored scores per user row.
        ranks: The stored genre percentiles per user row.
        staged: The ``(bucket, user_id)`` rows staged as changed.
        read_at: When they were read (microseconds since the epoch, the unit of write times).

    """

    user_ids: np.ndarray
    state: UserState
    ranks: np.ndarray
    staged: list[tuple[datetime, int]]
    read_at: int


def current_hour(now: datetime | None = None) -> datetime:
    """Start of the current UTC hour (the newest ``changed_users`` bucket a run reads)."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ids_frame(spark: SparkSession, ids: np.ndarray, **columns: Any) -> DataFrame:
    data = {"user_id": ids.astype(np.int64), **columns}
    return spark.createDataFrame(pd.DataFrame(data))


def score_releases(spark: SparkSession, settings: Settings, now: datetime) -> int:
    """Compute genre/style weights for releases not yet in ``release_scores``.

    Args:
        spark: Session.
        settings: Keyspace.
        now: ``scored_at`` written.

    Returns:
        Number of releases newly scored.

    """
    releases = read_table(spark, settings, "releases").select("release_id", "genres", "styles")
    done = read_table(spark, settings, "release_scores").select("release_id")
    fresh = releases.join(done, "release_id", "left_anti")
    scored_at = pd.Timestamp(now.replace(tzinfo=None))

    def weigh(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            yield pd.DataFrame(
                {
                    "release_id": batch["release_id"],
                    "genre_weights": [genre_weights(g).tolist() for g in batch["genres"]],
                    "style_weights": [style_weights(s) for s in batch["styles"]],
                    "scored_at": scored_at,
                }
            )

    out = fresh.mapInPandas(weigh, RELEASE_SCORES_SCHEMA).cache()
    rows = out.count()
    if rows:
        write_table(out, settings, "release_scores")
    out.unpersist()
    return rows


def read_stored(spark: SparkSession, settings: Settings, hour: datetime) -> Stored:
    """Read the staged users, the stored scores and the user universe into driver arrays.

    Args:
        spark: Session.
        settings: Keyspace.
        hour: Newest bucket of ``changed_users`` to read.

    Returns:
        The state before this run.

    """
    read_at = time.time_ns() // 1000
    staged_rows = (
        read_table(spark, settings, "changed_users")
        .filter(F.col("bucket") <= F.lit(hour.replace(tzinfo=None)))
        .select("bucket", "user_id")
        .collect()
    )
    staged = [(r.bucket, int(r.user_id)) for r in staged_rows]
    stored = (
        read_table(spark, settings, "users_scored")
        .select(
            "user_id",
            "taste",
            "friend_id",
            "friend_similarity",
            "collection_size",
            F.array(*[F.col("genre_ranks")[g] for g in GENRES]).alias("ranks"),
        )
        .toPandas()
    )
    profiles = read_table(spark, settings, "users").select("user_id").toPandas()
    user_ids = np.unique(
        np.concatenate(
            [
                profiles["user_id"].to_numpy(np.int64),
                stored["user_id"].to_numpy(np.int64),
                np.array([u for _, u in staged], dtype=np.int64),
            ]
        )
    )
    state = UserState.unscored(len(user_ids), len(GENRES))
    ranks = np.full((len(user_ids), len(GENRES)), NO_RANK, dtype=np.int16)
    rows = np.searchsorted(user_ids, stored["user_id"].to_numpy(np.int64))
    state.scored[rows] = True
    for row, vector, rank in zip(rows, stored["taste"], stored["ranks"], strict=True):
        if vector is not None:
            state.taste[row] = np.asarray(vector, dtype=np.float32)
        ranks[row] = [NO_RANK if r is None or pd.isna(r) else int(r) for r in rank]
    state.sizes[rows] = stored["collection_size"].fillna(0).to_numpy(np.int64)
    friend_rows, known = find_sorted(user_ids, stored["friend_id"].fillna(-1).to_numpy(np.int64))
    state.friend[rows[known]] = friend_rows[known]
    state.friend_similarity[rows] = stored["friend_similarity"].to_numpy(
        np.float32, na_value=np.nan
    )
    return Stored(user_ids, state, ranks, staged, read_at)


def read_catalogue(
    spark: SparkSession, settings: Settings, now: datetime
) -> tuple[np.ndarray, Catalogue]:
    """Read every release that someone owns or that trended, with what the rules need of it.

    Owners are counted over all of ``user_collection`` and trending events summed over the
    last 24 hours, both in Spark; only one row per release reaches the driver.

    Args:
        spark: Session.
        settings: Keyspace.
        now: End of the trending window.

    Returns:
        The sorted release ids (positions in it are the release rows) and the catalogue.

    """
    owners = (
        read_table(spark, settings, "user_collection")
        .select("release_id")
        .groupBy("release_id")
        .agg(F.count("*").alias("owners"))
    )
    since = (now - timedelta(hours=TRENDING_HOURS)).replace(tzinfo=None)
    trending = (
        read_table(spark, settings, "release_trending")
        .filter(F.col("hour") >= F.lit(since))
        .groupBy("release_id")
        .agg(F.sum("events").alias("trending"))
    )
    weights = read_table(spark, settings, "release_scores").select(
        "release_id",
        "genre_weights",
        F.map_keys("style_weights").alias("style_names"),
        F.map_values("style_weights").alias("style_values"),
    )
    rows = (
        owners.join(trending, "release_id", "full")
        .join(weights, "release_id", "left")
        .toPandas()
        .sort_values("release_id", ignore_index=True)
    )
    genre_matrix = np.zeros((len(rows), len(GENRES)), dtype=np.float32)
    weighted = rows["genre_weights"].notna().to_numpy()
    if weighted.any():
        genre_matrix[weighted] = np.stack(rows["genre_weights"][weighted].to_list())
    catalogue = Catalogue(
        genre_matrix,
        Styles.from_lists(rows["style_names"].to_list(), rows["style_values"].to_list()),
        rows["owners"].fillna(0).to_numpy(np.int64),
        rows["trending"].fillna(0).to_numpy(np.int64),
    )
    return rows["release_id"].to_numpy(np.int64), catalogue


def collection_loader(
    spark: SparkSession, settings: Settings, user_ids: np.ndarray, release_ids: np.ndarray
) -> LoadCollections:
    """A loader of collections from ``user_collection`` for :func:`compute.score`.

    All rows are read with one table scan; fewer with a join of their ids to the table's
    partition key (the connector's direct join), so the cost follows those users only.

    Args:
        spark: Session.
        settings: Keyspace.
        user_ids: Sorted ids of the user rows.
        release_ids: Sorted ids of the release rows.

    Returns:
        The loader. Pairs of releases outside ``release_ids`` (added after the catalogue was
        read) are dropped and logged.

    """
    table = read_table(spark, settings, "user_collection").select("user_id", "release_id")

    def load(rows: np.ndarray) -> Collections:
        if len(rows) == len(user_ids):
            pairs = table.toPandas()
        elif len(rows):
            pairs = _ids_frame(spark, user_ids[rows]).join(table, "user_id").toPandas()
        else:
            pairs = pd.DataFrame({"user_id": [], "release_id": []})
        user_rows, known_user = find_sorted(user_ids, pairs["user_id"].to_numpy(np.int64))
        release_rows, known_release = find_sorted(
            release_ids, pairs["release_id"].to_numpy(np.int64)
        )
        known = known_user & known_release
        if not known.all():
            log.warning("collection_pairs_dropped", pairs=int((~known).sum()))
        return Collections.from_pairs(
            user_rows[known], release_rows[known], len(user_ids), len(release_ids)
        )

    return load


def activity_loader(spark: SparkSession, settings: Settings, user_ids: np.ndarray) -> LoadActivity:
    """A reader of genre sums over users' recent activity (``user_activity``, 30 days kept).

    Args:
        spark: Session.
        settings: Keyspace.
        user_ids: Sorted ids of the user rows.

    Returns:
        The loader: the given users' ids are joined to the partition key of ``user_activity``
        (a direct join), their releases to ``release_scores``, and the weights summed.

    """
    activity = read_table(spark, settings, "user_activity").select("user_id", "release_id")
    weights = read_table(spark, settings, "release_scores").select("release_id", "genre_weights")

    def load(rows: np.ndarray) -> np.ndarray:
        ids = user_ids[rows]
        sums = (
            _ids_frame(spark, ids)
            .join(activity, "user_id")
            .join(weights, "release_id")
            .groupBy("user_id")
            .agg(*[F.sum(F.col("genre_weights")[i]).alias(f"g{i}") for i in range(len(GENRES))])
            .toPandas()
        )
        hints = np.zeros((len(rows), len(GENRES)), dtype=np.float32)
        hints[np.searchsorted(ids, sums["user_id"].to_numpy(np.int64))] = sums[
            [f"g{i}" for i in range(len(GENRES))]
        ].to_numpy(np.float32)
        return hints

    return load


def _titles(spark: SparkSession, settings: Settings, release_ids: np.ndarray) -> dict[int, str]:
    if len(release_ids) == 0:
        return {}
    wanted = spark.createDataFrame(pd.DataFrame({"release_id": release_ids.astype(np.int64)}))
    releases = read_table(spark, settings, "releases").select("release_id", "title")
    return {int(r.release_id): r.title for r in wanted.join(releases, "release_id").collect()}


def write_scores(
    spark: SparkSession,
    settings: Settings,
    stored: Stored,
    release_ids: np.ndarray,
    scores: Scores,
    now: datetime,
) -> int:
    """Upsert the ``users_scored`` rows of the rescored users.

    Args:
        spark: Session.
        settings: Keyspace.
        stored: User ids of the rows.
        release_ids: Release ids of the release rows.
        scores: Output of :func:`compute.score`.
        now: ``scored_at``.

    Returns:
        Rows written.

    """
    rows = scores.rescored
    recs = scores.recommendations
    picked = scores.friend_release[rows]
    used = np.unique(np.concatenate([picked, recs.releases.reshape(-1)]))
    titles = _titles(spark, settings, release_ids[used[used >= 0]])
    valid = has_taste(scores.taste)
    friend = scores.neighbours.friend
    similarity = scores.neighbours.friend_similarity
    scored_at = now.replace(tzinfo=None)
    records = []
    for i, row in enumerate(rows.tolist()):
        release = int(release_ids[picked[i]]) if picked[i] >= 0 else None
        listed = [
            (int(release_ids[r]), titles.get(int(release_ids[r])), float(s))
            for r, s in zip(recs.releases[i].tolist(), recs.scores[i].tolist(), strict=True)
            if r >= 0
        ]
        records.append(
            (
                int(stored.user_ids[row]),
                scores.taste[row].tolist() if valid[row] else None,
                GENRES[scores.top_genre[row]] if scores.top_genre[row] >= 0 else None,
                ranks_map(scores.ranks[row]),
                int(stored.user_ids[friend[row]]) if friend[row] >= 0 else None,
                float(similarity[row]) if friend[row] >= 0 else None,
                release,
                titles.get(release) if release is not None else None,
                listed,
                int(scores.sizes[row]),
                scored_at,
            )
        )
    if records:
        frame = spark.createDataFrame(records, USERS_SCORED_SCHEMA)
        write_table(frame, settings, "users_scored")
    return len(records)


def write_rank_updates(
    spark: SparkSession, settings: Settings, stored: Stored, scores: Scores
) -> int:
    """Write ``genre_ranks`` (only that column) of the other stored users whose ranks moved.

    Args:
        spark: Session.
        settings: Keyspace.
        stored: Ranks as stored before this run.
        scores: New ranks; its rescored rows were already written in full.

    Returns:
        Rows written.

    """
    moved = np.any(scores.ranks != stored.ranks, axis=1) & stored.state.scored
    moved[scores.rescored] = False
    rows = np.flatnonzero(moved)
    records = [(int(stored.user_ids[r]), ranks_map(scores.ranks[r])) for r in rows.tolist()]
    if records:
        frame = spark.createDataFrame(records, "user_id long, genre_ranks map<string,int>")
        write_table(frame, settings, "users_scored")
    return len(records)


def run_hourly(
    settings: Settings,
    *,
    spark: SparkSession | None = None,
    now: datetime | None = None,
    k: int = K_NEIGHBOURS,
    ann: AnnConfig | None = None,
    full: bool = False,
    recall_sample: int = 1000,
    staging_margin: timedelta = STAGING_MARGIN,
) -> HourlyResult:
    """Run the hourly steps in order, stopping at the first failure.

    Steps: ``release_scores`` → ``read_state`` (staged users, stored scores, the release
    catalogue) → the steps of :func:`compute.score` (collections of the staged and never-scored
    users, their tastes, ranks, HNSW friends of the affected users with the recall@1 check,
    recommendations) → ``write`` → ``clear_staged``. Each step is logged and recorded in
    ``batch_runs`` (pipeline ``hourly``). Re-running the same hour is idempotent: the staged
    rows read were cleared (but for those within ``staging_margin``, which score the same).

    Args:
        settings: Cluster and keyspace.
        spark: Session to use (built with :func:`spark_jobs.session.spark_session` if omitted).
        now: Run time (defaults to the current time, UTC).
        k: Neighbours per user.
        ann: HNSW parameters.
        full: Rescore every user, not only the staged and affected ones.
        recall_sample: Users sampled for the recall check.
        staging_margin: Staged rows written less than this before the read stay staged
            (:data:`STAGING_MARGIN`); they are scored again next run.

    Returns:
        Per-step seconds and counts.

    """
    from spark_jobs.session import spark_session

    now = now or datetime.now(UTC)
    spark = spark or spark_session(settings, "discorecs-hourly")
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    with session_scope(settings) as session:
        runs = BatchRunLog(session, settings.keyspace)
        result = HourlyResult(str(runs.run_id))
        counts = result.counts

        @contextmanager
        def step(name: str, rows: int | Callable[[], int]) -> Iterator[None]:
            start = time.perf_counter()
            try:
                yield
            except Exception as error:
                seconds = time.perf_counter() - start
                runs.record(name, "failed", 0, seconds, repr(error)[:1000])
                log.error("step_failed", run_id=result.run_id, step=name, error=repr(error))
                raise
            seconds = time.perf_counter() - start
            count = rows() if callable(rows) else rows
            result.seconds[name] = seconds
            runs.record(name, "ok", count, seconds)
            log.info("step_done", run_id=result.run_id, step=name, rows=count, seconds=seconds)

        with step("release_scores", lambda: counts["release_scores_new"]):
            counts["release_scores_new"] = score_releases(spark, settings, now)
        with step("read_state", lambda: counts["users"] + counts["releases"]):
            stored = read_stored(spark, settings, current_hour(now))
            release_ids, catalogue = read_catalogue(spark, settings, now)
            counts["users"], counts["releases"] = len(stored.user_ids), len(release_ids)
        counts["staged"] = len(stored.staged)
        changed = np.unique(np.searchsorted(stored.user_ids, [u for _, u in stored.staged]))
        load = collection_loader(spark, settings, stored.user_ids, release_ids)
        scores = score(
            catalogue,
            stored.state,
            changed.astype(np.int64),
            load,
            k=k,
            config=ann,
            recall_sample=recall_sample,
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
            written_before = stored.read_at - int(staging_margin.total_seconds() * 1e6)
            buckets = {bucket for bucket, _ in stored.staged}
            counts["staged_buckets_cleared"] = clear_staged_buckets(
                session, settings.keyspace, buckets, written_before
            )
        log.info("hourly_done", run_id=result.run_id, recall_at_1=result.recall, **counts)
    return result
