"""What the hourly run reads from Cassandra, through Spark, into the arrays the rules work on.

Spark aggregates what is big (owners of every release over all collections, recent trending,
the collections of just the users a run needs, through the connector's direct join on the
partition key); only one row per user or release reaches the driver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from discorecs.core.genres import GENRES
from discorecs.core.logs import get_logger
from discorecs.core.settings import Settings
from discorecs.core.tables import (
    CHANGED_USERS,
    RELEASE_SCORES,
    RELEASE_TRENDING,
    RELEASES,
    USER_ACTIVITY,
    USER_COLLECTION,
    USERS,
    USERS_SCORED,
)
from spark_jobs.connector import read_table
from spark_jobs.scoring.compute import LoadActivity, LoadCollections, UserState
from spark_jobs.scoring.ranks import NO_RANK
from spark_jobs.scoring.recommend import Collections, ReleaseFeatures, Styles, find_sorted

log = get_logger("scoring")


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

    @property
    def changed_rows(self) -> np.ndarray:
        """Sorted user rows of the staged users."""
        ids = np.array([u for _, u in self.staged], dtype=np.int64)
        return np.unique(np.searchsorted(self.user_ids, ids)).astype(np.int64)


def ids_frame(spark: SparkSession, column: str, ids: np.ndarray) -> DataFrame:
    """A one-column DataFrame of ids, to join with a table's partition key."""
    return spark.createDataFrame(pd.DataFrame({column: ids.astype(np.int64)}))


def read_staged(spark: SparkSession, settings: Settings, hour: datetime) -> list[Any]:
    """The ``changed_users`` rows of the buckets up to ``hour``."""
    return (
        read_table(spark, settings, CHANGED_USERS)
        .filter(F.col("bucket") <= F.lit(hour.replace(tzinfo=None)))
        .select("bucket", "user_id")
        .collect()
    )


def read_scored(spark: SparkSession, settings: Settings) -> pd.DataFrame:
    """The stored taste, friend, size and genre ranks (in genre order) of every scored user."""
    return (
        read_table(spark, settings, USERS_SCORED)
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


def stored_state(user_ids: np.ndarray, scored: pd.DataFrame) -> tuple[UserState, np.ndarray]:
    """The :class:`UserState` and genre ranks of every user row, from :func:`read_scored`."""
    state = UserState.unscored(len(user_ids), len(GENRES))
    ranks = np.full((len(user_ids), len(GENRES)), NO_RANK, dtype=np.int16)
    rows = np.searchsorted(user_ids, scored["user_id"].to_numpy(np.int64))
    state.scored[rows] = True
    for row, vector, rank in zip(rows, scored["taste"], scored["ranks"], strict=True):
        if vector is not None:
            state.taste[row] = np.asarray(vector, dtype=np.float32)
        ranks[row] = [NO_RANK if r is None or pd.isna(r) else int(r) for r in rank]
    state.sizes[rows] = scored["collection_size"].fillna(0).to_numpy(np.int64)
    friend_rows, known = find_sorted(user_ids, scored["friend_id"].fillna(-1).to_numpy(np.int64))
    state.friend[rows[known]] = friend_rows[known]
    state.friend_similarity[rows] = scored["friend_similarity"].to_numpy(
        np.float32, na_value=np.nan
    )
    return state, ranks


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
    staged = [(r.bucket, int(r.user_id)) for r in read_staged(spark, settings, hour)]
    scored = read_scored(spark, settings)
    profiles = read_table(spark, settings, USERS).select("user_id").toPandas()
    user_ids = np.unique(
        np.concatenate(
            [
                profiles["user_id"].to_numpy(np.int64),
                scored["user_id"].to_numpy(np.int64),
                np.array([u for _, u in staged], dtype=np.int64),
            ]
        )
    )
    state, ranks = stored_state(user_ids, scored)
    return Stored(user_ids, state, ranks, staged, read_at)


def read_release_features(
    spark: SparkSession, settings: Settings, now: datetime
) -> tuple[np.ndarray, ReleaseFeatures]:
    """Read every release that someone owns or that trended, with what the rules need of it.

    Owners are counted over all of ``user_collection`` and trending events summed over the
    trending window, both in Spark; only one row per release reaches the driver.

    Args:
        spark: Session.
        settings: Keyspace and trending window.
        now: End of the trending window.

    Returns:
        The sorted release ids (positions in it are the release rows) and their features.

    """
    owners = (
        read_table(spark, settings, USER_COLLECTION)
        .groupBy("release_id")
        .agg(F.count("*").alias("owners"))
    )
    since = (now - timedelta(hours=settings.scoring.trending_hours)).replace(tzinfo=None)
    trending = (
        read_table(spark, settings, RELEASE_TRENDING)
        .filter(F.col("hour") >= F.lit(since))
        .groupBy("release_id")
        .agg(F.sum("events").alias("trending"))
    )
    weights = read_table(spark, settings, RELEASE_SCORES).select(
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
    features = ReleaseFeatures(
        genre_matrix,
        Styles.from_lists(rows["style_names"].to_list(), rows["style_values"].to_list()),
        rows["owners"].fillna(0).to_numpy(np.int64),
        rows["trending"].fillna(0).to_numpy(np.int64),
    )
    return rows["release_id"].to_numpy(np.int64), features


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
        The loader. Pairs of releases outside ``release_ids`` (added after the features were
        read) are dropped and logged.

    """
    table = read_table(spark, settings, USER_COLLECTION).select("user_id", "release_id")

    def load(rows: np.ndarray) -> Collections:
        if len(rows) == len(user_ids):
            pairs = table.toPandas()
        elif len(rows):
            pairs = ids_frame(spark, "user_id", user_ids[rows]).join(table, "user_id").toPandas()
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
    """A reader of genre sums over users' recent activity (``user_activity``, with a TTL).

    Args:
        spark: Session.
        settings: Keyspace.
        user_ids: Sorted ids of the user rows.

    Returns:
        The loader: the given users' ids are joined to the partition key of ``user_activity``
        (a direct join), their releases to ``release_scores``, and the weights summed.

    """
    activity = read_table(spark, settings, USER_ACTIVITY).select("user_id", "release_id")
    weights = read_table(spark, settings, RELEASE_SCORES).select("release_id", "genre_weights")
    genre_columns = [f"g{i}" for i in range(len(GENRES))]

    def load(rows: np.ndarray) -> np.ndarray:
        ids = user_ids[rows]
        sums = (
            ids_frame(spark, "user_id", ids)
            .join(activity, "user_id")
            .join(weights, "release_id")
            .groupBy("user_id")
            .agg(*[F.sum(F.col("genre_weights")[i]).alias(c) for i, c in enumerate(genre_columns)])
            .toPandas()
        )
        hints = np.zeros((len(rows), len(GENRES)), dtype=np.float32)
        at = np.searchsorted(ids, sums["user_id"].to_numpy(np.int64))
        hints[at] = sums[genre_columns].to_numpy(np.float32)
        return hints

    return load


def read_titles(spark: SparkSession, settings: Settings, release_ids: np.ndarray) -> dict[int, str]:
    """Titles of the given releases (a direct join on the ``releases`` partition key)."""
    if len(release_ids) == 0:
        return {}
    wanted = ids_frame(spark, "release_id", release_ids)
    releases = read_table(spark, settings, RELEASES).select("release_id", "title")
    return {int(r.release_id): r.title for r in wanted.join(releases, "release_id").collect()}
