"""The streaming query: Kafka event topics -> :func:`process_batch`, checkpointed.

One query reads the three event topics, so each micro-batch is validated and written in one
pass (one set of Spark jobs instead of three on a 2-core box). Its checkpoint lives under
``Settings.checkpoint_path / "events"``; Spark records the batch's offsets there before running
it and replays the same offsets with the same ``batch_id`` after a crash.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

from pyspark.errors import StreamingQueryException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from discorecs.logs import get_logger
from discorecs.settings import Settings
from kafka_producers.events import KINDS
from spark_jobs.session import spark_session
from spark_jobs.stream.micro_batch import DriverState, process_batch, stats_dict

log = get_logger("stream")

QUERY_NAME = "events"


def checkpoint_dir(settings: Settings) -> Path:
    """The query's checkpoint folder."""
    return settings.checkpoint_path / QUERY_NAME


def metrics_path(settings: Settings) -> Path:
    """JSONL file where each micro-batch's stats are appended (read by status/loadtest)."""
    return settings.cluster_path / "metrics" / f"stream-{settings.keyspace}.jsonl"


def start_query(
    spark: SparkSession,
    settings: Settings,
    state: DriverState,
    *,
    once: bool,
    max_offsets_per_trigger: int,
    trigger_seconds: float,
) -> StreamingQuery:
    """Start the streaming query.

    Args:
        spark: The session.
        settings: Topics, broker, checkpoint folder.
        state: Driver-side session and known release ids, kept across micro-batches.
        once: Consume what is in the topics now, then stop (``availableNow``).
        max_offsets_per_trigger: Upper bound of records per micro-batch.
        trigger_seconds: Processing-time trigger interval (0: next batch as soon as one ends).

    Returns:
        The running query.

    """
    source = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap)
        .option("subscribe", ",".join(settings.topic(kind) for kind in KINDS))
        .option("startingOffsets", "earliest")
        .option("failOnDataLoss", "true")
        .option("maxOffsetsPerTrigger", max_offsets_per_trigger)
        .load()
    )
    metrics = metrics_path(settings)
    metrics.parent.mkdir(parents=True, exist_ok=True)

    def each_batch(frame: DataFrame, batch_id: int) -> None:
        stats = process_batch(frame, batch_id, settings, state)
        with open(metrics, "a") as handle:
            handle.write(json.dumps(stats_dict(stats)) + "\n")

    writer = (
        source.writeStream.queryName(QUERY_NAME)
        .option("checkpointLocation", str(checkpoint_dir(settings)))
        .foreachBatch(each_batch)
    )
    if once:
        writer = writer.trigger(availableNow=True)
    elif trigger_seconds > 0:
        writer = writer.trigger(processingTime=f"{trigger_seconds} seconds")
    return writer.start()


def run(
    settings: Settings,
    *,
    once: bool = False,
    max_offsets_per_trigger: int = 200_000,
    trigger_seconds: float = 0.0,
    retry_seconds: float = 10.0,
    max_failures: int | None = None,
) -> int:
    """Run the stream until stopped (SIGTERM/SIGINT) or, with ``once``, until caught up.

    A failed query (e.g. Cassandra down) is restarted from its checkpoint after
    ``retry_seconds``, so the pipeline resumes by itself when the service is back.

    Returns:
        The number of query failures survived.

    """
    spark = spark_session(settings, "discorecs-stream")
    state = DriverState(settings)
    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    failures = 0
    try:
        while not stop.is_set():
            query = start_query(
                spark,
                settings,
                state,
                once=once,
                max_offsets_per_trigger=max_offsets_per_trigger,
                trigger_seconds=trigger_seconds,
            )
            log.info("started", query=QUERY_NAME, once=once, checkpoint=settings.checkpoint_path)
            try:
                while query.isActive and not stop.is_set():
                    query.awaitTermination(0.5)
            except StreamingQueryException:
                pass  # read below through query.exception()
            if query.isActive:
                query.stop()
            error = query.exception()
            if error is None:
                break
            failures += 1
            log.error("query_failed", failures=failures, error=str(error).splitlines()[0][:300])
            if max_failures is not None and failures > max_failures:
                raise RuntimeError(f"stream failed {failures} times; last: {error}")
            stop.wait(retry_seconds)
        return failures
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        state.close()
        spark.stop()
        log.info("stopped", failures=failures, at=time.strftime("%Y-%m-%dT%H:%M:%S"))
