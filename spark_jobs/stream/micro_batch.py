"""What one micro-batch does (the ``foreachBatch`` body): validate, route, write idempotently.

Every write can be replayed (see :mod:`.writers`), so Spark's at-least-once replay of a batch
after a crash gives effectively-once results. Spark jobs cost a fixed ~0.2-0.5 s each on two
cores, so a batch runs as few as it can: one summary job (:mod:`.summary`), then one write per
non-empty output, run concurrently. A batch that wrote to Cassandra ends with a durability
barrier (:meth:`DriverState.make_durable`), so Spark never commits a batch a Cassandra crash
could still take back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from discorecs.core.logs import get_logger
from discorecs.core.settings import Settings
from discorecs.core.timing import StepTimer
from spark_jobs.stream.driver_state import DriverState
from spark_jobs.stream.summary import BatchSummary, latencies, latency_quantiles, summarize
from spark_jobs.stream.validation import (
    KAFKA_COLUMNS,
    RECORD_TIME,
    validate_batches,
    validated_schema,
)
from spark_jobs.stream.writers import (
    write_activity,
    write_collections,
    write_dead_letters,
)

log = get_logger("stream")


@dataclass(frozen=True)
class BatchStats:
    """The counts one micro-batch logs (and the load test and ``discorecs status`` read).

    ``changed_users`` is how many distinct users the batch staged in ``changed_users``: those
    with a valid collection change or profile; ``collection_mutations`` the rows their
    collection changes wrote. ``latencies_ms`` holds each event second's written-time minus
    event-time and its events, so quantiles over many batches count every event once.
    """

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
    latencies_ms: list[tuple[float, int]]
    written_at_ms: int
    step_seconds: dict[str, float]


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


def among_releases(release_ids: set[int]) -> Column:
    """Whether a row's ``release_id`` is one of ``release_ids``, as one SQL expression.

    ``Column.isin`` makes a JVM literal per id, two py4j round trips each: 0.1 s for 100 ids
    on an idle box, in every batch's critical path (the malformed events carry new unknown
    ids); the expression is parsed in one call (docs/benchmarks.md, "Twenty-fourth pass").

    Args:
        release_ids: Release ids (Python ints, written into the expression as numbers).

    Returns:
        A boolean column: null where ``release_id`` is null, false for an empty set.

    """
    if not release_ids:
        return F.lit(False)
    return F.expr(f"release_id IN ({', '.join(str(int(r)) for r in sorted(release_ids))})")


def planned_writes(
    checked: DataFrame,
    summary: BatchSummary,
    unknown: set[int],
    batch_id: int,
    settings: Settings,
    state: DriverState,
) -> dict[str, Callable[[], Any]]:
    """The writes this batch needs, one per non-empty output.

    Profiles go with the collection changes (``collections`` writes both, then stages every
    changed user).
    """
    release_ok = F.col("release_id").isNull() | ~among_releases(unknown)
    good = checked.where(F.col("reason").isNull() & release_ok)
    bad = checked.where(F.col("reason").isNotNull() | ~release_ok)
    trending = {key: n for key, n in summary.trending.items() if key[1] not in unknown}
    writes: dict[str, Callable[[], Any]] = {}
    if summary.dead_letters(unknown):
        writes["dead_letters"] = lambda: write_dead_letters(bad, settings)
    if summary.valid("activity"):
        writes["activity"] = lambda: write_activity(good, settings, state, batch_id, trending)
    if summary.valid("collections") or summary.valid("users"):
        writes["collections"] = lambda: write_collections(good, settings)
    return writes


def process_batch(
    raw: DataFrame, batch_id: int, settings: Settings, state: DriverState
) -> BatchStats:
    """Validate and write one micro-batch of raw Kafka records.

    Args:
        raw: Kafka source rows (topic, partition, offset, key, value, ...).
        batch_id: Spark's id for this batch (the same on a replay).
        settings: Keyspace, topics and addresses.
        state: Driver-side connections and known release ids, kept across batches.

    Returns:
        The batch's counts and step timings, also logged as one structured line.

    """
    started = time.monotonic()
    step = StepTimer()
    # One task per core, not per Kafka partition (12): every job of the batch scans `checked`,
    # and on two cores each task's fixed cost outweighed its share of a few thousand records.
    # A user's order comes from the rows' (event time, offset), not from Spark's partitioning.
    checked = (
        raw.select(*KAFKA_COLUMNS, RECORD_TIME)
        .coalesce(raw.sparkSession.sparkContext.defaultParallelism)
        .mapInArrow(validate_batches, validated_schema())
        .persist()
    )
    try:
        with step("summary"):
            summary = summarize(checked)
            unknown = state.unknown_releases(set(summary.release_events))
        writes = planned_writes(checked, summary, unknown, batch_id, settings, state)
        results = run_concurrently(writes, step)
        if set(writes) - {"dead_letters"}:
            with step("durable"):
                state.make_durable(batch_id)
    finally:
        checked.unpersist()
    mutations, staged = results.get("collections", (0, 0))
    stats = batch_stats(
        batch_id, summary, unknown, mutations, staged, time.monotonic() - started, time.time(), step
    )
    fields = {
        k: v
        for k, v in asdict(stats).items()
        if v is not None and k not in ("step_seconds", "latencies_ms")
    }
    fields.update({f"t_{name}": value for name, value in step.seconds.items()})
    log.info("batch", **fields)
    return stats


def batch_stats(
    batch_id: int,
    summary: BatchSummary,
    unknown: set[int],
    mutations: int,
    staged: int,
    seconds: float,
    now: float,
    step: StepTimer,
) -> BatchStats:
    """The stats of a batch whose writes ended at ``now`` (epoch s), ``seconds`` after it began."""
    pairs = latencies(summary.seconds_histogram, now)
    quantiles = latency_quantiles(pairs)
    return BatchStats(
        batch_id=batch_id,
        rows_in=summary.rows,
        users=summary.valid("users"),
        collection_events=summary.valid("collections"),
        activity_events=summary.valid("activity"),
        dead_letters=summary.dead_letters(unknown),
        collection_mutations=mutations,
        changed_users=staged,
        seconds=seconds,
        input_rate=summary.rows / seconds if seconds else 0.0,
        latency_p50_ms=quantiles[0] if quantiles else None,
        latency_p99_ms=quantiles[1] if quantiles else None,
        latencies_ms=pairs,
        written_at_ms=int(now * 1000),
        step_seconds=dict(step.seconds),
    )
