"""Pay the stream's one-off costs before its query starts, so the first micro-batch does not.

A cold process pays on first use for Python workers, class loading and code generation, the
connector's session and table metadata, the Cassandra sessions and prepared statements (of the
driver and of each Python worker) and the Kafka producer's connection. :func:`warm_up` runs the
summary job and every writer once on a probe of null-valued records. Each record fails
validation, so the writers get empty frames and write nothing, and dead letters are not sent.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from discorecs.core.events import KINDS
from discorecs.core.settings import Settings
from discorecs.core.timing import StepTimer
from spark_jobs.stream.driver_state import DriverState
from spark_jobs.stream.micro_batch import check, route, run_concurrently
from spark_jobs.stream.summary import summarize
from spark_jobs.stream.writers import write_activity, write_collections, write_users

PROBE_BATCH_ID = -1
"""The ``batch_id`` the writers are called with; with no trending counts it is never written."""


class WarmUpError(RuntimeError):
    """A probe record passed validation, so the warm-up would have written it."""


def probe_records(settings: Settings, copies: int) -> list[tuple[str, int, int, None, None]]:
    """Kafka records (topic, partition, offset, key, value) with a null value: all invalid.

    Args:
        settings: The event topics' names.
        copies: Records per event kind (one per task slot, so every Python worker starts).

    """
    return [(settings.topic(kind), 0, -1, None, None) for kind in KINDS for _ in range(copies)]


def probe(spark: SparkSession, settings: Settings) -> DataFrame:
    """The probe records as a frame of the Kafka source's columns, one partition per core.

    It belongs to a new session with adaptive execution off, as in every micro-batch (Spark
    turns it off for streaming), so the warm-up compiles the plans the batches run.
    """
    session = spark.newSession()
    session.conf.set("spark.sql.adaptive.enabled", "false")
    cores = session.sparkContext.defaultParallelism
    schema = "topic string, partition int, offset bigint, key binary, value binary"
    return session.createDataFrame(probe_records(settings, cores), schema).repartition(cores)


def warm_up(spark: SparkSession, settings: Settings, state: DriverState) -> dict[str, float]:
    """Run the summary job and every writer once, writing nothing.

    Args:
        spark: The stream's session.
        settings: Keyspace, topics and addresses.
        state: The driver state the micro-batches will use (connected here).

    Returns:
        Seconds of each step.

    Raises:
        WarmUpError: A probe record was valid (nothing was written).

    """
    step = StepTimer()
    checked = check(probe(spark, settings)).persist()
    try:
        summary = run_concurrently(
            {"driver": state.warm, "summary": lambda: summarize(checked)}, step
        )["summary"]
        if any(summary.valid(kind) for kind in KINDS):
            raise WarmUpError(f"probe records passed validation: {dict(summary.counts)}")
        good, _ = route(checked, set())
        writes = {
            "users": lambda: write_users(good, settings),
            "activity": lambda: write_activity(good, settings, state, PROBE_BATCH_ID, {}),
            "collections": lambda: write_collections(good, settings),
        }
        run_concurrently(writes, step)
    finally:
        checked.unpersist()
    return step.seconds
