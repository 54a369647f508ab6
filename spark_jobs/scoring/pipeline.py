"""The hourly batch on Spark + Cassandra: read, score with the pure layer, write, clear staging.

Spark does what is big (joins over collections, candidate aggregation, top-10 windows); the
driver holds only small things (the 15-float taste matrix, friends) for faiss.
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
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from discorecs.cassandra import session_scope
from discorecs.genres import GENRES
from discorecs.logs import get_logger
from discorecs.settings import Settings
from spark_jobs.scoring.compute import K_NEIGHBOURS, affected_users
from spark_jobs.scoring.friends import AnnConfig, Neighbours, TasteIndex, l2_normalise, recall_at_1
from spark_jobs.scoring.io import BatchRunLog, delete_changed_users, read_table, write_table
from spark_jobs.scoring.ranks import NO_RANK, genre_percentiles, ranks_map
from spark_jobs.scoring.recommend import FALLBACK_DEPTH, N_RECS
from spark_jobs.scoring.taste import has_taste
from spark_jobs.scoring.weights import genre_weights, style_weights

log = get_logger("scoring")

TRENDING_HOURS = 24
VECTOR_WRITES_IN_FLIGHT = 2
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
class _State:
    """Driver-side arrays, one row per user (``user_ids`` sorted)."""

    user_ids: np.ndarray
    taste: np.ndarray
    sizes: np.ndarray
    friend: np.ndarray
    friend_similarity: np.ndarray
    ranks: np.ndarray
    scored: np.ndarray
    staged: list[tuple[datetime, int]]


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


def load_state(spark: SparkSession, settings: Settings, hour: datetime) -> _State:
    """Read staged users, stored scores and the user universe into driver arrays.

    Args:
        spark: Session.
        settings: Keyspace.
        hour: Newest bucket of ``changed_users`` to read.

    Returns:
        The state before this run.

    """
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
    n = len(user_ids)
    rows = np.searchsorted(user_ids, stored["user_id"].to_numpy(np.int64))
    taste = np.zeros((n, len(GENRES)), dtype=np.float32)
    ranks = np.full((n, len(GENRES)), NO_RANK, dtype=np.int16)
    sizes = np.zeros(n, dtype=np.int64)
    friend = np.full(n, -1, dtype=np.int64)
    similarity = np.full(n, np.nan, dtype=np.float32)
    scored = np.zeros(n, dtype=bool)
    scored[rows] = True
    for row, vector, rank in zip(rows, stored["taste"], stored["ranks"], strict=True):
        if vector is not None:
            taste[row] = np.asarray(vector, dtype=np.float32)
        ranks[row] = [NO_RANK if r is None or pd.isna(r) else int(r) for r in rank]
    sizes[rows] = stored["collection_size"].fillna(0).to_numpy(np.int64)
    friend_ids = stored["friend_id"].fillna(-1).to_numpy(np.int64)
    at = np.minimum(np.searchsorted(user_ids, friend_ids), n - 1) if n else friend_ids
    known = (friend_ids >= 0) & (user_ids[at] == friend_ids) if n else friend_ids >= 0
    friend[rows[known]] = at[known]
    similarity[rows] = stored["friend_similarity"].to_numpy(np.float32, na_value=np.nan)
    return _State(user_ids, taste, sizes, friend, similarity, ranks, scored, staged)


def recompute_tastes(
    spark: SparkSession, settings: Settings, user_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Taste vectors and collection sizes of some users, from their collections only.

    The user ids are joined to ``user_collection`` on its partition key, which the connector
    turns into a direct join: the cost follows these users, not the whole table.

    Args:
        spark: Session.
        settings: Keyspace.
        user_ids: Sorted ids to recompute.

    Returns:
        ``(len(user_ids), 15)`` unit tastes (zero rows for empty collections) and sizes.

    """
    if len(user_ids) == 0:
        return np.zeros((0, len(GENRES)), dtype=np.float32), np.zeros(0, dtype=np.int64)
    owned = _ids_frame(spark, user_ids).join(
        read_table(spark, settings, "user_collection").select("user_id", "release_id"), "user_id"
    )
    weights = read_table(spark, settings, "release_scores").select("release_id", "genre_weights")
    sums = (
        owned.join(weights, "release_id", "left")
        .groupBy("user_id")
        .agg(
            F.count("release_id").alias("size"),
            *[F.sum(F.col("genre_weights")[i]).alias(f"g{i}") for i in range(len(GENRES))],
        )
        .toPandas()
        .fillna(0)
    )
    rows = np.searchsorted(user_ids, sums["user_id"].to_numpy(np.int64))
    totals = np.zeros((len(user_ids), len(GENRES)), dtype=np.float32)
    sizes = np.zeros(len(user_ids), dtype=np.int64)
    totals[rows] = sums[[f"g{i}" for i in range(len(GENRES))]].to_numpy(np.float32)
    sizes[rows] = sums["size"].to_numpy(np.int64)
    return l2_normalise(totals), sizes


def _popular_lists(
    spark: SparkSession, popularity: DataFrame, weights: DataFrame
) -> tuple[list[int], list[list[int]]]:
    order = [F.desc("popularity"), F.asc("release_id")]
    overall = popularity.orderBy(*order).limit(FALLBACK_DEPTH).collect()
    per_genre = (
        popularity.join(weights, "release_id")
        .select("release_id", "popularity", F.posexplode("genre_weights").alias("g", "w"))
        .filter(F.col("w") > 0)
        .withColumn("r", F.row_number().over(Window.partitionBy("g").orderBy(*order)))
        .filter(F.col("r") <= FALLBACK_DEPTH)
        .select("g", "r", "release_id")
        .collect()
    )
    lists: list[list[int]] = [[] for _ in GENRES]
    for row in sorted(per_genre, key=lambda r: (r.g, r.r)):
        lists[row.g].append(int(row.release_id))
    return [int(r.release_id) for r in overall], lists


def recommend(
    spark: SparkSession,
    settings: Settings,
    state: _State,
    neighbours: Neighbours,
    rows: np.ndarray,
    now: datetime,
) -> tuple[dict[int, int], dict[int, list[tuple[int, float]]]]:
    """Friend-rule release and top-10 list for the given user rows, in Spark.

    Candidates are the k neighbours' collections minus the user's own, scored by the summed
    similarity of the neighbours owning them, ties broken by genre match, then trending (events
    summed over the last 24 hours), then release_id. Short lists are filled from the most
    popular (owners + trending) releases of the user's top genre, or overall for empty
    collections. Owned releases are never returned.

    Args:
        spark: Session.
        settings: Keyspace.
        state: Driver arrays (taste, user ids).
        neighbours: Neighbours of (at least) ``rows``.
        rows: User rows to recommend for.
        now: End of the trending window.

    Returns:
        ``{user_id: friend-rule release_id}`` and ``{user_id: [(release_id, score), ...]}``.

    """
    if len(rows) == 0:
        return {}, {}
    user_ids = state.user_ids
    collection = read_table(spark, settings, "user_collection").select("user_id", "release_id")
    weights = read_table(spark, settings, "release_scores").select("release_id", "genre_weights")
    since = (now - timedelta(hours=TRENDING_HOURS)).replace(tzinfo=None)
    trending = (
        read_table(spark, settings, "release_trending")
        .filter(F.col("hour") >= F.lit(since))
        .groupBy("release_id")
        .agg(F.sum("events").alias("trending"))
    )
    owners = collection.groupBy("release_id").agg(F.count("*").alias("owners"))
    popularity = (
        owners.join(trending, "release_id", "full")
        .fillna(0, ["owners", "trending"])
        .withColumn("popularity", F.col("owners") + F.col("trending"))
        .cache()
    )
    subject = _ids_frame(spark, user_ids[rows])
    owned = subject.join(collection, "user_id").cache()

    ids, sims = neighbours.ids[rows], neighbours.sims[rows]
    local, slot = np.nonzero(ids >= 0)
    pairs = pd.DataFrame(
        {
            "user_id": user_ids[rows][local],
            "nbr_id": user_ids[ids[local, slot]],
            "sim": sims[local, slot].astype(np.float64),
        }
    )
    tastes = _ids_frame(spark, user_ids[rows], taste=[t.tolist() for t in state.taste[rows]])
    nbr_collection = collection.withColumnRenamed("user_id", "nbr_id")
    match = F.aggregate(
        F.zip_with("taste", "genre_weights", lambda a, b: a * b), F.lit(0.0), lambda s, x: s + x
    )
    ranked: dict[int, list[tuple[int, float]]] = {int(u): [] for u in user_ids[rows]}
    friend_release: dict[int, int] = {}
    if len(pairs):
        nbrs = spark.createDataFrame(pairs)
        candidates = (
            nbrs.join(nbr_collection, "nbr_id")
            .join(owned, ["user_id", "release_id"], "left_anti")
            .groupBy("user_id", "release_id")
            .agg(F.sum("sim").alias("score"))
            .join(weights, "release_id", "left")
            .join(tastes, "user_id")
            .join(trending, "release_id", "left")
            .withColumn("match", F.coalesce(match, F.lit(0.0)))
            .withColumn("trending", F.coalesce("trending", F.lit(0)))
        )
        window = Window.partitionBy("user_id").orderBy(
            F.desc("score"), F.desc("match"), F.desc("trending"), F.asc("release_id")
        )
        top = (
            candidates.withColumn("rank", F.row_number().over(window))
            .filter(F.col("rank") <= N_RECS)
            .select("user_id", "rank", "release_id", "score")
            .collect()
        )
        for row in sorted(top, key=lambda r: (r.user_id, r.rank)):
            ranked[int(row.user_id)].append((int(row.release_id), float(row.score)))
        friends = pairs.groupby("user_id", sort=False).head(1)[["user_id", "nbr_id"]]
        rule_window = Window.partitionBy("user_id").orderBy(F.desc("owners"), F.asc("release_id"))
        rule = (
            spark.createDataFrame(friends)
            .join(nbr_collection, "nbr_id")
            .join(owned, ["user_id", "release_id"], "left_anti")
            .join(owners, "release_id")
            .withColumn("r", F.row_number().over(rule_window))
            .filter(F.col("r") == 1)
            .select("user_id", "release_id")
            .collect()
        )
        friend_release = {int(r.user_id): int(r.release_id) for r in rule}

    short = [u for u, recs in ranked.items() if len(recs) < N_RECS]
    if short:
        overall, per_genre = _popular_lists(spark, popularity, weights)
        short_ids = np.array(short, dtype=np.int64)
        owned_short: dict[int, set[int]] = {u: set() for u in short}
        for row in _ids_frame(spark, short_ids).join(collection, "user_id").collect():
            owned_short[int(row.user_id)].add(int(row.release_id))
        for user in short:
            row = int(np.searchsorted(user_ids, user))
            vector = state.taste[row]
            pool = (per_genre[int(np.argmax(vector))] if vector.any() else []) + overall
            have = {r for r, _ in ranked[user]} | owned_short[user]
            for release in dict.fromkeys(pool):
                if len(ranked[user]) >= N_RECS:
                    break
                if release not in have:
                    ranked[user].append((release, 0.0))
                    have.add(release)
    owned.unpersist()
    popularity.unpersist()
    for user, recs in ranked.items():
        if user not in friend_release and recs:
            friend_release[user] = recs[0][0]
    return friend_release, ranked


def _titles(spark: SparkSession, settings: Settings, release_ids: set[int]) -> dict[int, str]:
    if not release_ids:
        return {}
    wanted = spark.createDataFrame(pd.DataFrame({"release_id": sorted(release_ids)}))
    releases = read_table(spark, settings, "releases").select("release_id", "title")
    return {int(r.release_id): r.title for r in wanted.join(releases, "release_id").collect()}


def write_scores(
    spark: SparkSession,
    settings: Settings,
    state: _State,
    neighbours: Neighbours,
    rows: np.ndarray,
    recommendations: tuple[dict[int, int], dict[int, list[tuple[int, float]]]],
    now: datetime,
) -> int:
    """Upsert the ``users_scored`` rows of the rescored users.

    Args:
        spark: Session.
        settings: Keyspace.
        state: Driver arrays (taste, ranks, sizes).
        neighbours: Friends of ``rows``.
        rows: User rows to write.
        recommendations: Output of :func:`recommend`.
        now: ``scored_at``.

    Returns:
        Rows written.

    """
    friend_release, ranked = recommendations
    used = set(friend_release.values()) | {r for recs in ranked.values() for r, _ in recs}
    titles = _titles(spark, settings, used)
    valid = has_taste(state.taste)
    scored_at = now.replace(tzinfo=None)
    records = []
    for row in rows.tolist():
        user = int(state.user_ids[row])
        friend = int(neighbours.friend[row])
        release = friend_release.get(user)
        records.append(
            (
                user,
                state.taste[row].tolist() if valid[row] else None,
                GENRES[int(np.argmax(state.taste[row]))] if valid[row] else None,
                ranks_map(state.ranks[row]),
                int(state.user_ids[friend]) if friend >= 0 else None,
                float(neighbours.friend_similarity[row]) if friend >= 0 else None,
                release,
                titles.get(release) if release is not None else None,
                [(r, titles.get(r), s) for r, s in ranked.get(user, [])],
                int(state.sizes[row]),
                scored_at,
            )
        )
    if records:
        scored = spark.createDataFrame(records, USERS_SCORED_SCHEMA)
        write_table(scored, settings, "users_scored", max_in_flight=VECTOR_WRITES_IN_FLIGHT)
    return len(records)


def write_rank_updates(
    spark: SparkSession, settings: Settings, state: _State, old_ranks: np.ndarray, skip: np.ndarray
) -> int:
    """Write ``genre_ranks`` (only that column) of users whose percentiles moved.

    Args:
        spark: Session.
        settings: Keyspace.
        state: Driver arrays with the new ranks.
        old_ranks: Ranks as stored before this run.
        skip: Rows already written in full.

    Returns:
        Rows written.

    """
    moved = np.any(state.ranks != old_ranks, axis=1) & state.scored
    moved[skip] = False
    rows = np.flatnonzero(moved)
    records = [(int(state.user_ids[r]), ranks_map(state.ranks[r])) for r in rows.tolist()]
    if records:
        df = spark.createDataFrame(records, "user_id long, genre_ranks map<string,int>")
        write_table(df, settings, "users_scored", max_in_flight=VECTOR_WRITES_IN_FLIGHT)
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
) -> HourlyResult:
    """Run the hourly steps in order, stopping at the first failure.

    Steps: ``release_scores`` → ``load`` → ``taste`` (staged and never-scored users only) →
    ``ranks`` → ``friends`` (HNSW over all tastes, searched for affected users, recall@1
    checked against exact search) → ``recommendations`` → ``write`` → ``clear_staged``. Each
    step is logged and recorded in ``batch_runs`` (pipeline ``hourly``). Re-running the same hour
    is idempotent: the staged rows were cleared, so nothing is recomputed twice.

    Args:
        settings: Cluster and keyspace.
        spark: Session to use (built with :func:`spark_jobs.session.spark_session` if omitted).
        now: Run time (defaults to the current time, UTC).
        k: Neighbours per user.
        ann: HNSW parameters.
        full: Rescore every user, not only the staged and affected ones.
        recall_sample: Users sampled for the recall check.

    Returns:
        Per-step seconds and counts.

    """
    from spark_jobs.session import spark_session

    now = now or datetime.now(UTC)
    hour = current_hour(now)
    spark = spark or spark_session(settings, "discorecs-hourly")
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    with session_scope(settings) as session:
        runs = BatchRunLog(session, settings.keyspace)
        result = HourlyResult(str(runs.run_id))
        counts = result.counts

        @contextmanager
        def step(name: str, rows: Callable[[], int]) -> Iterator[None]:
            start = time.perf_counter()
            try:
                yield
            except Exception as error:
                seconds = time.perf_counter() - start
                runs.record(name, "failed", 0, seconds, repr(error)[:1000])
                log.error("step_failed", run_id=result.run_id, step=name, error=repr(error))
                raise
            seconds = time.perf_counter() - start
            result.seconds[name] = seconds
            runs.record(name, "ok", rows(), seconds)
            log.info("step_done", run_id=result.run_id, step=name, rows=rows(), seconds=seconds)

        with step("release_scores", lambda: counts["release_scores_new"]):
            counts["release_scores_new"] = score_releases(spark, settings, now)
        with step("load", lambda: counts["users"]):
            state = load_state(spark, settings, hour)
            counts["users"] = len(state.user_ids)
            counts["staged"] = len(state.staged)
        with step("taste", lambda: counts["taste_recomputed"]):
            staged = np.searchsorted(state.user_ids, [u for _, u in state.staged])
            first_time = full or not state.scored.any()
            todo = np.union1d(staged, np.flatnonzero(~state.scored)).astype(np.int64)
            if first_time:
                todo = np.arange(len(state.user_ids))
            tastes, sizes = recompute_tastes(spark, settings, state.user_ids[todo])
            state.taste[todo], state.sizes[todo] = tastes, sizes
            counts["taste_recomputed"] = len(todo)
        with step("ranks", lambda: counts["users"]):
            old_ranks = state.ranks
            state.ranks = genre_percentiles(state.taste, has_taste(state.taste))
        with step("friends", lambda: counts["rescored"]):
            index = TasteIndex(state.taste, ann)
            if first_time:
                rescored = np.arange(len(state.user_ids))
            else:
                near = index.neighbours(k, rows=todo)
                rescored = affected_users(state.friend, state.friend_similarity, todo, near)
            neighbours = index.neighbours(k, rows=rescored)
            friend = state.friend.copy()
            friend[rescored] = neighbours.friend[rescored]
            result.recall, sample = recall_at_1(state.taste, friend, recall_sample)
            counts["rescored"] = len(rescored)
            log.info("ann_recall", run_id=result.run_id, recall_at_1=result.recall, sample=sample)
        with step("recommendations", lambda: counts["rescored"]):
            recs = recommend(spark, settings, state, neighbours, rescored, now)
        with step("write", lambda: counts["written"]):
            counts["written"] = write_scores(
                spark, settings, state, neighbours, rescored, recs, now
            )
            counts["ranks_updated"] = write_rank_updates(
                spark, settings, state, old_ranks, rescored
            )
        with step("clear_staged", lambda: counts["staged_cleared"]):
            counts["staged_cleared"] = delete_changed_users(
                session, settings.keyspace, state.staged
            )
        log.info("hourly_done", run_id=result.run_id, recall_at_1=result.recall, **counts)
    return result
