"""What one micro-batch does (the ``foreachBatch`` body): validate, route, write idempotently.

Every write can be replayed: profiles and activity are upserts on their primary key, collection
changes carry a logical write timestamp, trending counts are keyed by ``batch_id`` (a replayed
batch overwrites its own rows), staging rows are a set, and dead letters are keyed by their
source coordinates on a compacted topic. So Spark's at-least-once replay of a batch after a
crash gives effectively-once results.

Spark jobs cost a fixed ~0.2-0.5 s each on two cores, so a batch runs as few as it can: one
summary job (counts, release ids, trending counts and an event-time histogram, as grouping
sets), then one write job per non-empty output.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from cassandra.cluster import Cluster, Session
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.query import PreparedStatement
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from discorecs.cassandra import connect, existing_release_ids
from discorecs.logs import get_logger
from discorecs.settings import Settings
from spark_jobs.stream.collection_writer import WRITE_TIMESTAMP, write_partition
from spark_jobs.stream.validation import validate_batches, validated_schema

log = get_logger("stream")


@dataclass(frozen=True)
class BatchStats:
    """The counts one micro-batch logs (and the load test and ``discorecs status`` read)."""

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


class DriverState:
    """What the stream keeps on the driver across micro-batches: a session, known releases.

    Releases are never deleted, so a known id stays known; an unknown id is asked again next
    time (it may have been loaded since). In steady state the release check costs no query.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.known_releases: set[int] = set()
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._statements: dict[str, PreparedStatement] = {}

    def _connected(self) -> Session:
        if self._session is None:
            self._cluster, self._session = connect(self.settings)
        return self._session

    def _prepared(self, cql: str) -> tuple[Session, PreparedStatement]:
        session = self._connected()
        if cql not in self._statements:
            self._statements[cql] = session.prepare(cql)
        return session, self._statements[cql]

    def unknown_releases(self, release_ids: set[int]) -> set[int]:
        """The ids among ``release_ids`` that are not in the ``releases`` table."""
        missing = sorted(release_ids - self.known_releases)
        if not missing:
            return set()
        self.known_releases |= existing_release_ids(
            self._connected(), self.settings.keyspace, missing
        )
        return set(missing) - self.known_releases

    def write_trending(self, batch_id: int, counts: dict[tuple[datetime, int], int]) -> None:
        """Upsert this batch's activity count per (hour, release)."""
        session, insert = self._prepared(
            f"INSERT INTO {self.settings.keyspace}.release_trending "
            "(hour, release_id, batch_id, events) VALUES (?, ?, ?, ?)"
        )
        rows = [(hour, release, batch_id, n) for (hour, release), n in counts.items()]
        execute_concurrent_with_args(session, insert, rows, concurrency=32)

    def close(self) -> None:
        """Close the driver connection, if one was opened."""
        if self._cluster is not None:
            self._cluster.shutdown()


@dataclass
class BatchSummary:
    """What the summary job tells the driver about a batch."""

    counts: Counter[tuple[str, bool]] = field(default_factory=Counter)
    release_events: Counter[int] = field(default_factory=Counter)
    trending: dict[tuple[datetime, int], int] = field(default_factory=dict)
    seconds_histogram: list[tuple[int, int]] = field(default_factory=list)

    def valid(self, kind: str) -> int:
        """Valid events of ``kind`` (before the release check)."""
        return self.counts[(kind, False)]


SUMMARY_SQL = """
SELECT event_kind, bad, hour, release_id, second, count(*) AS n, grouping(second) AS by_kind
FROM (
  SELECT event_kind, reason IS NOT NULL AS bad, date_trunc('hour', event_time) AS hour,
         release_id, CAST(unix_micros(event_time) DIV 1000000 AS BIGINT) AS second
  FROM {view}
)
GROUP BY GROUPING SETS ((event_kind, bad, hour, release_id), (second))
"""


def summarize(checked: DataFrame) -> BatchSummary:
    """One job: counts per kind, release ids, activity per (hour, release), event-time seconds."""
    view = "discorecs_micro_batch"
    checked.createOrReplaceTempView(view)
    summary = BatchSummary()
    for row in checked.sparkSession.sql(SUMMARY_SQL.format(view=view)).collect():
        if row.by_kind:
            summary.counts[(row.event_kind, row.bad)] += row.n
            if not row.bad and row.release_id is not None:
                summary.release_events[row.release_id] += row.n
                if row.event_kind == "activity":
                    key = (row.hour, row.release_id)
                    summary.trending[key] = summary.trending.get(key, 0) + row.n
        elif row.second is not None:
            summary.seconds_histogram.append((row.second, row.n))
    return summary


def latency_quantiles(histogram: list[tuple[int, int]], now: float) -> tuple[float, float] | None:
    """(p50, p99) of written-time minus event-time, in ms, from a per-second histogram.

    The oldest 1% of events define p99; each second's events count as written ``now`` and
    timed at the middle of their second.
    """
    total = sum(n for _, n in histogram)
    if not total:
        return None
    quantiles = []
    for share in (0.5, 0.01):
        seen = 0
        for second, n in sorted(histogram):
            seen += n
            if seen >= share * total:
                quantiles.append((now - second - 0.5) * 1000)
                break
    return quantiles[0], quantiles[1]


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


def write_dead_letters(bad: DataFrame, settings: Settings) -> None:
    """Send bad records to ``dead_letters``: original bytes, source coordinates and reason.

    The key is ``topic/partition/offset``, unique per source record, and the topic is
    compacted, so a replayed batch adds no second copy once compaction runs; readers
    deduplicate by key.
    """
    header = [
        ("reason", F.col("reason")),
        ("topic", F.col("topic")),
        ("partition", F.col("partition").cast("string")),
        ("offset", F.col("offset").cast("string")),
    ]
    (
        bad.select(
            F.concat_ws("/", "topic", "partition", "offset").cast("binary").alias("key"),
            F.col("value"),
            F.array(
                *[
                    F.struct(F.lit(name).alias("key"), value.cast("binary").alias("value"))
                    for name, value in header
                ]
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
    """Write each (user, release)'s last action of the batch and stage the changed users.

    Returns:
        (row mutations written, users staged).

    """
    stamped = collections.withColumn("write_ts", F.expr(WRITE_TIMESTAMP))
    final = stamped.groupBy("user_id", "release_id").agg(
        F.max_by(F.struct("action", "event_time", "write_ts"), "write_ts").alias("last")
    )
    per_user = final.groupBy("user_id").agg(
        F.collect_list(F.struct("release_id", "last.*")).alias("changes"),
        F.collect_set(F.date_trunc("hour", "last.event_time")).alias("buckets"),
    )
    written = per_user.rdd.mapPartitions(lambda rows: write_partition(settings, rows)).collect()
    return sum(m for m, _ in written), sum(u for _, u in written)


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


def run_concurrently(writes: dict[str, Callable[[], Any]], step: StepTimer) -> dict[str, Any]:
    """Run independent writes as concurrent Spark jobs; return each one's result.

    Each write is a Spark job with idle phases (scheduling, round trips to Cassandra or Kafka);
    on two cores, overlapping them shortens the batch. The first failure is raised.
    """
    if not writes:
        return {}

    def timed(name: str) -> Any:
        with step(name):
            return writes[name]()

    with ThreadPoolExecutor(max_workers=len(writes), thread_name_prefix="write") as pool:
        futures = {name: pool.submit(timed, name) for name in writes}
        return {name: future.result() for name, future in futures.items()}


def process_batch(
    raw: DataFrame, batch_id: int, settings: Settings, state: DriverState
) -> BatchStats:
    """Validate and write one micro-batch of raw Kafka records.

    Args:
        raw: Kafka source rows (topic, partition, offset, key, value, ...).
        batch_id: Spark's id for this batch (the same on a replay).
        settings: Keyspace, topics and addresses.
        state: Driver-side session and known release ids, kept across batches.

    Returns:
        The batch's counts and step timings, also logged as one structured line.

    """
    started = time.monotonic()
    step = StepTimer()
    checked = (
        raw.select("topic", "partition", "offset", "key", "value")
        .mapInArrow(validate_batches, validated_schema())
        .persist()
    )
    try:
        with step("summary"):
            summary = summarize(checked)
            unknown = state.unknown_releases(set(summary.release_events))
        rows_in = sum(summary.counts.values())
        unknown_events = sum(summary.release_events[release] for release in unknown)
        dead = rows_in - sum(summary.valid(kind) for kind in ("users", "collections", "activity"))
        dead += unknown_events
        release_ok = F.col("release_id").isNull() | ~F.col("release_id").isin(*unknown)
        good = checked.where(F.col("reason").isNull() & release_ok)

        def dead_letters() -> None:
            reason = F.coalesce(
                F.col("reason"), F.concat(F.lit("unknown_release:"), F.col("release_id"))
            )
            bad = checked.where(F.col("reason").isNotNull() | ~release_ok)
            write_dead_letters(bad.withColumn("reason", reason), settings)

        def users() -> None:
            profiles = good.where(F.col("event_kind") == "users")
            columns = ["name", "username", "email", "location", "joined_at"]
            _cassandra(_latest(profiles, ["user_id"], columns), settings, "users")

        def activity() -> None:
            rows = good.where(F.col("event_kind") == "activity").select(
                "user_id", "event_time", "event_id", "kind", "release_id"
            )
            # One user's rows side by side: the connector groups them into one batch.
            _cassandra(rows.sortWithinPartitions("user_id"), settings, "user_activity")
            trending = {k: n for k, n in summary.trending.items() if k[1] not in unknown}
            state.write_trending(batch_id, trending)

        def collections() -> tuple[int, int]:
            return write_collections(good.where(F.col("event_kind") == "collections"), settings)

        writes: dict[str, Callable[[], Any]] = {}
        if dead:
            writes["dead_letters"] = dead_letters
        if summary.valid("users"):
            writes["users"] = users
        if summary.valid("activity"):
            writes["activity"] = activity
        if summary.valid("collections"):
            writes["collections"] = collections
        results = run_concurrently(writes, step)
        mutations, staged = results.get("collections", (0, 0))
    finally:
        checked.unpersist()
    now = time.time()
    seconds = time.monotonic() - started
    quantiles = latency_quantiles(summary.seconds_histogram, now)
    stats = BatchStats(
        batch_id=batch_id,
        rows_in=rows_in,
        users=summary.valid("users"),
        collection_events=summary.valid("collections"),
        activity_events=summary.valid("activity"),
        dead_letters=dead,
        collection_mutations=mutations,
        changed_users=staged,
        seconds=seconds,
        input_rate=rows_in / seconds if seconds else 0.0,
        latency_p50_ms=quantiles[0] if quantiles else None,
        latency_p99_ms=quantiles[1] if quantiles else None,
        written_at_ms=int(now * 1000),
        step_seconds=step.seconds,
    )
    fields = {k: v for k, v in asdict(stats).items() if v is not None and k != "step_seconds"}
    fields.update({f"t_{name}": value for name, value in step.seconds.items()})
    log.info("batch", **fields)
    return stats


def stats_dict(stats: BatchStats) -> dict[str, Any]:
    """The stats as a JSON-ready dict."""
    return asdict(stats)
