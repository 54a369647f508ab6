"""The streaming query: Kafka event topics -> :func:`process_batch`, checkpointed.

One query reads the three event topics, so each micro-batch is validated and written in one
pass (one set of Spark jobs instead of three on a 2-core box). Its checkpoint lives under
``Settings.checkpoint_path / "events"``; Spark records the batch's offsets there before running
it and replays the same offsets with the same ``batch_id`` after a crash.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict
from typing import Any

from pyspark import SparkContext
from pyspark.errors import StreamingQueryException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from discorecs.core.events import KINDS
from discorecs.core.files import exclusive_lock
from discorecs.core.logs import get_logger
from discorecs.core.settings import Settings
from spark_jobs import class_archive
from spark_jobs.session import spark_session
from spark_jobs.stream.checkpoint_source import check_source
from spark_jobs.stream.driver_state import DriverState
from spark_jobs.stream.micro_batch import process_batch
from spark_jobs.stream.progress import (
    QUERY_NAME,
    STUCK_EXIT_CODE,
    append_metrics,
    checkpoint_dir,
    committed_batch,
    metrics_path,
)

log = get_logger("stream")


class BatchWatchdog:
    """Ends the process when one micro-batch runs longer than ``timeout`` seconds.

    A batch can hang for good inside a client library, out of reach of Spark and Python: the
    connector's Java driver may never complete a schema refresh begun as Cassandra went down.
    Exiting is safe: the batch was not committed, so the next process replays it from the
    checkpoint, and every write is idempotent. Whatever supervises the stream starts it again:
    the next cron run for the hourly ``--once``, ``discorecs loadtest``, a service manager.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._batch: tuple[int, float] | None = None
        threading.Thread(target=self._watch, name="batch-watchdog", daemon=True).start()

    @contextmanager
    def batch(self, batch_id: int) -> Iterator[None]:
        """Time one micro-batch."""
        self._batch = (batch_id, time.monotonic())
        try:
            yield
        finally:
            self._batch = None

    def _watch(self) -> None:
        while True:
            time.sleep(min(5.0, self.timeout / 4))
            batch = self._batch
            if batch is not None and time.monotonic() - batch[1] > self.timeout:
                log.error(
                    "batch_stuck",
                    batch_id=batch[0],
                    seconds=round(time.monotonic() - batch[1]),
                    exit_code=STUCK_EXIT_CODE,
                )
                sys.stderr.flush()
                os._exit(STUCK_EXIT_CODE)


def start_query(
    spark: SparkSession,
    settings: Settings,
    state: DriverState,
    watchdog: BatchWatchdog,
    *,
    once: bool,
    max_offsets: int,
    first_records: FirstRecords,
) -> StreamingQuery:
    """Start the streaming query.

    Args:
        spark: The session.
        settings: Topics, broker, checkpoint folder and trigger.
        state: Driver-side session and known release ids, kept across micro-batches.
        watchdog: Times each micro-batch.
        once: Consume what is in the topics now, then stop (``availableNow``).
        max_offsets: Records per micro-batch at most.
        first_records: Learns the id of the process's first micro-batch with records.

    Returns:
        The running query.

    """
    source = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap)
        .option("subscribe", ",".join(settings.topic(kind) for kind in KINDS))
        .option("startingOffsets", "earliest")
        .option("failOnDataLoss", "true")
        .option("maxOffsetsPerTrigger", max_offsets)
        .load()
    )
    metrics = metrics_path(settings)
    metrics.parent.mkdir(parents=True, exist_ok=True)

    def each_batch(frame: DataFrame, batch_id: int) -> None:
        with watchdog.batch(batch_id):
            stats = process_batch(frame, batch_id, settings, state)
        append_metrics(metrics, json.dumps(asdict(stats)))
        if stats.rows_in and first_records.batch_id is None:
            first_records.batch_id = batch_id

    writer = (
        source.writeStream.queryName(QUERY_NAME)
        .option("checkpointLocation", str(checkpoint_dir(settings)))
        .foreachBatch(each_batch)
    )
    if once:
        writer = writer.trigger(availableNow=True)
    elif settings.streaming.trigger_seconds > 0:
        writer = writer.trigger(processingTime=f"{settings.streaming.trigger_seconds} seconds")
    return writer.start()


def run(settings: Settings, *, once: bool = False, max_failures: int | None = None) -> int:
    """Run the stream until stopped (SIGTERM/SIGINT) or, with ``once``, until caught up.

    A failed query (e.g. Cassandra down) is restarted from its checkpoint after
    ``settings.streaming.retry_seconds``, so the pipeline resumes by itself when the service
    is back. A
    micro-batch that hangs longer than ``settings.streaming.batch_timeout_s`` ends the process
    with :data:`STUCK_EXIT_CODE` (see :class:`BatchWatchdog`). One process
    at a time owns the checkpoint: a catch-up (``once``) while a continuous stream runs has
    nothing to do and returns at once; a second continuous stream is an error.

    Returns:
        The number of query failures survived.

    Raises:
        StreamError: Another stream owns the checkpoint, the checkpoint was read from other
            Kafka topics (:mod:`.checkpoint_source`), or the query failed ``max_failures``
            times.

    """
    with checkpoint_lock(settings) as owned:
        if owned:
            return _supervise(settings, once=once, max_failures=max_failures)
    if once:
        log.info("catch_up_skipped", reason="a running stream owns the checkpoint")
        return 0
    raise StreamError(f"another discorecs stream owns {checkpoint_dir(settings)}")


class StreamError(RuntimeError):
    """The stream cannot run or gave up; the message says why."""


def checkpoint_lock(settings: Settings) -> AbstractContextManager[bool]:
    """An exclusive lock on the query's checkpoint; entered, False if another process has it.

    The lock is :func:`~discorecs.core.files.exclusive_lock` on a file beside the checkpoint.
    """
    return exclusive_lock(settings.checkpoint_path / f"{QUERY_NAME}.lock")


class FirstRecords:
    """The id of a stream process's first micro-batch with records, once it is written."""

    def __init__(self) -> None:
        self.batch_id: int | None = None


def _await_first_records(
    query: StreamingQuery, stop: threading.Event, first: FirstRecords, settings: Settings
) -> bool:
    """Wait until the first micro-batch with records is committed; False if the query ends first.

    A started query reads with a small ``maxOffsetsPerTrigger`` (``streaming.first_offsets``),
    so on a backlog the cold JVM's first jobs run on few records; once that batch is committed,
    the caller restarts the query from its checkpoint with full micro-batches.
    """
    checkpoint = checkpoint_dir(settings)
    while query.isActive and not stop.wait(0.1):
        done = committed_batch(checkpoint)
        if first.batch_id is not None and done is not None and done >= first.batch_id:
            return True
    return False


def _supervise(settings: Settings, *, once: bool, max_failures: int | None) -> int:
    archive_plan = class_archive.plan(
        settings, "discorecs-stream", gateway_running=SparkContext._gateway is not None
    )
    spark = spark_session(settings, "discorecs-stream", archive_plan.java_options)
    state = DriverState(settings)
    watchdog = BatchWatchdog(settings.streaming.batch_timeout_s)
    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    failures = 0
    full, first = settings.streaming.max_offsets, settings.streaming.first_offsets
    capped = not once and 0 < first < full
    first_records = FirstRecords()
    try:
        while not stop.is_set():
            foreign = check_source(settings)
            if foreign is not None:
                raise StreamError(foreign)
            cap = first if capped else full
            query = start_query(
                spark,
                settings,
                state,
                watchdog,
                once=once,
                max_offsets=cap,
                first_records=first_records,
            )
            log.info(
                "started",
                query=QUERY_NAME,
                once=once,
                max_offsets=cap,
                checkpoint=settings.checkpoint_path,
            )
            uncap = capped and _await_first_records(query, stop, first_records, settings)
            try:
                while query.isActive and not stop.is_set() and not uncap:
                    query.awaitTermination(1)
            except StreamingQueryException:
                pass  # read below through query.exception()
            if query.isActive:
                query.stop()
            error = query.exception()
            if error is None and uncap:
                capped = False
                continue
            if error is None:
                break
            failures += 1
            log.error("query_failed", failures=failures, error=str(error).splitlines()[0][:300])
            if max_failures is not None and failures >= max_failures:
                raise StreamError(f"stream failed {failures} times; last: {error}")
            stop.wait(settings.streaming.retry_seconds)
        return failures
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        state.close()
        spark.stop()
        class_archive.publish(archive_plan)
        log.info("stopped", failures=failures, at=time.strftime("%Y-%m-%dT%H:%M:%S"))
