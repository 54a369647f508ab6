"""The one SparkSession factory, with the Kafka and Cassandra connector jars."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from importlib.resources import files

from pyspark.sql import SparkSession

from discorecs.core.settings import Settings, SettingsError

LOG_CONFIG = files("spark_jobs") / "conf" / "spark-log4j2.properties"
"""Spark's log4j2 configuration: warnings only, so jobs print no INFO lines."""
IDEMPOTENT_BATCHES = "-Ddatastax-java-driver.basic.request.default-idempotence=true"
"""The Java driver's default for statements that carry no idempotence flag, as a system property
(the driver's configuration reads system properties over the connector's own settings).

The connector flags each statement it prepares (idempotent unless it adds to a counter or a
list) but not the batches it groups them in, so the driver's default (not idempotent) kept its
retry policy from retrying a batch that timed out: one write timeout on a cold node failed the
task, and with it the hourly job (``bench_vector_index.py --rows 200000`` right after ``cluster
up``). Every table here is written by upserts (no counter, no list append), so a batch is as
safe to resend as its statements."""


def spark_jars(settings: Settings) -> list[str]:
    """Absolute paths of the connector jars Maven resolved into ``.jars/spark``."""
    jars = sorted(str(path) for path in (settings.jars_path / "spark").glob("*.jar"))
    if not jars:
        folder = settings.jars_path / "spark"
        raise SettingsError(
            f"no jars in {folder}; run `make jars` first (or set DISCORECS_JARS_DIR)"
        )
    return jars


def standalone_config(settings: Settings) -> dict[str, str]:
    """Executor sizing for a standalone master (``spark://``); nothing for ``local[...]``.

    Each job takes at most ``cores_max`` cores, so the stream and the hourly job both get
    executors; a job's executors are spread over the workers, so losing one worker leaves it
    running on the others while Spark reruns the lost tasks.
    """
    if not settings.spark_master_url.startswith("spark://"):
        return {}
    spark = settings.spark
    return {
        "spark.executor.memory": spark.executor_memory,
        "spark.executor.cores": str(spark.executor_cores),
        "spark.cores.max": str(spark.cores_max),
    }


def spark_session(
    settings: Settings, app_name: str, driver_java_options: Sequence[str] = ()
) -> SparkSession:
    """Build (or return the running) SparkSession configured for the local cluster.

    The connector jars come from ``spark.jars`` (never ``spark.jars.packages``, which would need
    Ivy and the network at run time), and also sit on the driver's own classpath, so the
    driver's class-data archive (:mod:`spark_jobs.class_archive`) can hold them. Executors run
    the same Python as the driver (``spark.pyspark.python``: this venv's, on every worker of the
    same machine or image), under :mod:`spark_jobs.python_daemon`: PySpark's daemon without the
    archives Spark puts first on the workers' path, which every task would read again.
    The master is ``settings.spark_master_url``: ``local[2]``, or the standalone master.

    Every process of the job runs in UTC (``TZ``: this one, hence the driver JVM and local-mode
    Python workers, and ``spark.executorEnv.TZ`` for a standalone cluster's): pyspark hands
    Python a timestamp as a *naive local* datetime, and cassandra-driver writes a naive datetime
    as UTC, so on a machine in any other zone every time the Python writers store (``added_at``,
    ``joined_at``, the hour buckets) would move by the zone's offset.

    Args:
        settings: Spark master/memory, Cassandra addresses and consistency, jar folder.
        app_name: Name shown in logs and the Spark UI.
        driver_java_options: More options of a newly launched driver JVM.

    Returns:
        The session.

    """
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = settings.spark.driver_bind_address
    os.environ["TZ"] = "UTC"
    time.tzset()
    if settings.java_home:
        os.environ["JAVA_HOME"] = str(settings.java_home)
    java_options = [f"-Dlog4j2.configurationFile=file:{LOG_CONFIG}", IDEMPOTENT_BATCHES]
    jars = spark_jars(settings)
    builder = SparkSession.builder.master(settings.spark_master_url)
    for key, value in standalone_config(settings).items():
        builder = builder.config(key, value)
    builder = (
        builder.appName(app_name)
        .config("spark.pyspark.python", sys.executable)
        .config("spark.executorEnv.TZ", "UTC")
        .config("spark.driver.extraJavaOptions", " ".join([*java_options, *driver_java_options]))
        .config("spark.executor.extraJavaOptions", " ".join(java_options))
        .config("spark.jars", ",".join(jars))
        .config("spark.driver.extraClassPath", os.pathsep.join(jars))
        .config("spark.driver.memory", settings.spark.driver_memory)
        .config("spark.driver.bindAddress", settings.spark.driver_bind_address)
        .config("spark.driver.host", settings.spark.driver_host)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(settings.spark.shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.python.daemon.module", "spark_jobs.python_daemon")
        .config("spark.sql.streaming.stopGracefullyOnShutdown", "true")
        .config("spark.cassandra.connection.host", ",".join(settings.cassandra_hosts))
        .config("spark.cassandra.connection.port", str(settings.cassandra.port))
        .config("spark.cassandra.input.consistency.level", settings.spark.input_consistency)
        .config("spark.cassandra.input.fetch.sizeInRows", str(settings.spark.connector_fetch_rows))
        .config("spark.cassandra.output.consistency.level", settings.spark.output_consistency)
        .config("spark.cassandra.output.batch.grouping.key", "partition")
        .config(
            "spark.cassandra.output.concurrent.writes",
            str(settings.spark.connector_concurrent_writes),
        )
        .config(
            "spark.cassandra.output.batch.size.bytes", str(settings.spark.connector_batch_bytes)
        )
        .config("spark.cassandra.connection.reconnectionDelayMS.max", "5000")
        .config("spark.sql.extensions", "com.datastax.spark.connector.CassandraSparkExtensions")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session
