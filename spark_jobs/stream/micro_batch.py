"""What one micro-batch does (the ``foreachBatch`` body): validate, route, write idempotently.

Every write can be replayed: profiles and activity are upserts on their primary key, collection
changes carry their event time as write timestamp, trending counts are keyed by ``batch_id``
(a replayed batch overwrites its own row), staging rows are a set, and dead letters are keyed by
their source coordinates on a compacted topic. So Spark's at-least-once replay of a batch after a
crash gives effectively-once results.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from discorecs.logs import get_logger
from discorecs.settings import Settings
from spark_jobs.stream.collection_writer import WRITE_TIMESTAMP, write_partition
from spark_jobs.stream.validation import validate_batches, validated_schema

log = get_logger("stream")


@dataclass(frozen=True)
class BatchStats:
    """The counts one micro-batch logs (and the load test reads)."""

    batch_id: int
    rows_in: int
    users: int
    collection_events: int
    activity_events: int
    dead_letters: int
    collection_mutations: int
    changed_users: int
    seconds: float
    input_rate: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    written_at_ms: int
    step_seconds: dict[str, float]


def _cassandra(frame: DataFrame, settings: Settings, table: str) -> None:
    (
        frame.write.format("org.apache.spark.sql.cassandra")
        .options(keyspace=settings.keyspace, table=table)
        .mode("append")
        .save()
    )


def _latest(frame: DataFrame, keys: list[str], value_columns: list[str]) -> DataFrame:
    """The last row per key by (event_time, offset): Kafka order within a user's partition."""
    order = F.struct("event_time", "offset")
    picked = F.max_by(F.struct(*value_columns), order).alias("last")
    return frame.groupBy(*keys).agg(picked).select(*keys, "last.*")


def with_unknown_releases(valid: DataFrame, settings: Settings) -> DataFrame:
    """Mark events whose ``release_id`` is not in ``releases`` as ``unknown_release:<id>``.

    The batch's distinct ids are looked up in Cassandra by an inner direct join on the partition
    key (reads only those ids, so releases loaded while the stream runs are known at once); the
    ids it does not return are unknown. (The connector's direct join drops unmatched rows even in
    a left join, hence inner join + anti join.)
    """
    spark = valid.sparkSession
    ids = valid.where(F.col("release_id").isNotNull()).select("release_id").distinct()
    releases = (
        spark.read.format("org.apache.spark.sql.cassandra")
        .options(keyspace=settings.keyspace, table="releases")
        .load()
        .select("release_id")
    )
    known = ids.join(releases, "release_id", "inner")
    unknown = ids.join(known, "release_id", "left_anti").select(
        "release_id", F.lit(True).alias("unknown")
    )
    return (
        valid.join(F.broadcast(unknown), "release_id", "left")
        .withColumn(
            "reason",
            F.when(F.col("unknown"), F.concat(F.lit("unknown_release:"), F.col("release_id"))),
        )
        .drop("unknown")
    )


def write_dead_letters(bad: DataFrame, settings: Settings) -> None:
    """Send bad records to ``dead_letters``: original bytes, source coordinates and reason.

    The key is ``topic/partition/offset``, unique per source record, and the topic is
    compacted, so a replayed batch adds no second copy once compaction runs; readers
    deduplicate by key.
    """
    (
        bad.select(
            F.concat_ws("/", "topic", "partition", "offset").cast("binary").alias("key"),
            F.col("value"),
            F.array(
                F.struct(
                    F.lit("reason").alias("key"), F.col("reason").cast("binary").alias("value")
                ),
                F.struct(F.lit("topic").alias("key"), F.col("topic").cast("binary").alias("value")),
                F.struct(
                    F.lit("partition").alias("key"),
                    F.col("partition").cast("string").cast("binary").alias("value"),
                ),
                F.struct(
                    F.lit("offset").alias("key"),
                    F.col("offset").cast("string").cast("binary").alias("value"),
                ),
            ).alias("headers"),
        )
        .write.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap)
        .option("kafka.enable.idempotence", "true")
        .option("kafka.acks", "all")
        .option("topic", settings.topic("dead_letters"))
        .option("includeHeaders", "true")
        .save()
    )


def write_collections(collections: DataFrame, settings: Settings) -> tuple[int, int]:
    """Write each (user, release)'s last action of the batch; stage the changed users.

    Returns:
        (row mutations written, distinct users staged).

    """
    stamped = collections.withColumn("write_ts", F.expr(WRITE_TIMESTAMP))
    final = stamped.groupBy("user_id", "release_id").agg(
        F.max_by(F.struct("action", "event_time", "write_ts"), "write_ts").alias("last")
    )
    per_user = final.groupBy("user_id").agg(
        F.collect_list(F.struct("release_id", "last.*")).alias("changes")
    )
    mutations = sum(
        per_user.rdd.mapPartitions(lambda rows: write_partition(settings, rows)).collect()
    )
    staged = collections.select(
        F.date_trunc("hour", "event_time").alias("bucket"), "user_id"
    ).distinct()
    _cassandra(staged, settings, "changed_users")
    return mutations, staged.select("user_id").distinct().count()


class StepTimer:
    """Seconds spent in each named step of a micro-batch."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Time the body as step ``name``."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = time.monotonic() - started


def process_batch(raw: DataFrame, batch_id: int, settings: Settings) -> BatchStats:
    """Validate and write one micro-batch of raw Kafka records.

    Args:
        raw: Kafka source rows (topic, partition, offset, key, value, ...).
        batch_id: Spark's id for this batch (the same on a replay).
        settings: Keyspace, topics and addresses.

    Returns:
        The batch's counts and step timings, also logged as one structured line.

    """
    started = time.monotonic()
    step = StepTimer()
    checked = (
        raw.select("topic", "partition", "offset", "key", "value")
        .mapInPandas(validate_batches, validated_schema())
        .persist()
    )
    events: DataFrame | None = None
    try:
        with step("validate"):
            counts = {
                (row.event_kind, row.bad): row["count"]
                for row in checked.groupBy("event_kind", F.col("reason").isNotNull().alias("bad"))
                .count()
                .collect()
            }
        rows_in = sum(counts.values())
        if rows_in == 0:
            return _stats(batch_id, started, 0, {}, 0, 0, 0, None, step.seconds)
        with step("releases"):
            events = with_unknown_releases(checked.where(F.col("reason").isNull()), settings)
            events = events.persist()
            bad = checked.where(F.col("reason").isNotNull()).unionByName(
                events.where(F.col("reason").isNotNull())
            )
            dead = bad.count()
        good = events.where(F.col("reason").isNull())
        with step("dead_letters"):
            if dead:
                write_dead_letters(bad, settings)
        with step("users"):
            users = good.where(F.col("event_kind") == "users")
            profile_columns = ["name", "username", "email", "location", "joined_at"]
            _cassandra(_latest(users, ["user_id"], profile_columns), settings, "users")
        activity = good.where(F.col("event_kind") == "activity")
        with step("activity"):
            _cassandra(
                activity.select("user_id", "event_time", "event_id", "kind", "release_id"),
                settings,
                "user_activity",
            )
        with step("trending"):
            trending = activity.groupBy(
                F.date_trunc("hour", "event_time").alias("hour"), "release_id"
            ).agg(F.count("*").cast("int").alias("events"))
            _cassandra(
                trending.withColumn("batch_id", F.lit(batch_id)), settings, "release_trending"
            )
        with step("collections"):
            collections = good.where(F.col("event_kind") == "collections")
            mutations, staged = write_collections(collections, settings)
        quantiles = good.agg(
            F.percentile_approx(F.col("event_time").cast("double"), [0.01, 0.5], 1000).alias("q")
        ).first()
        return _stats(
            batch_id, started, rows_in, counts, dead, mutations, staged, quantiles.q, step.seconds
        )
    finally:
        checked.unpersist()
        if events is not None:
            events.unpersist()


def _stats(
    batch_id: int,
    started: float,
    rows_in: int,
    counts: dict[tuple[str, bool], int],
    dead: int,
    mutations: int,
    staged: int,
    quantiles: list[float] | None,
    step_seconds: dict[str, float],
) -> BatchStats:
    now = time.time()
    seconds = time.monotonic() - started

    def valid(kind: str) -> int:
        return counts.get((kind, False), 0)

    stats = BatchStats(
        batch_id=batch_id,
        rows_in=rows_in,
        users=valid("users"),
        collection_events=valid("collections"),
        activity_events=valid("activity"),
        dead_letters=dead,
        collection_mutations=mutations,
        changed_users=staged,
        seconds=seconds,
        input_rate=rows_in / seconds if seconds else 0.0,
        latency_p50_ms=(now - quantiles[1]) * 1000 if quantiles else None,
        latency_p99_ms=(now - quantiles[0]) * 1000 if quantiles else None,
        written_at_ms=int(now * 1000),
        step_seconds=step_seconds,
    )
    fields = {k: v for k, v in asdict(stats).items() if v is not None and k != "step_seconds"}
    fields.update({f"t_{name}": value for name, value in step_seconds.items()})
    log.info("batch", **fields)
    return stats


def stats_dict(stats: BatchStats) -> dict[str, Any]:
    """The stats as a JSON-ready dict."""
    return asdict(stats)
