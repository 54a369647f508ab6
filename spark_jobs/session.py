"""The one SparkSession factory, with the Kafka and Cassandra connector jars."""

from __future__ import annotations

import os
import sys
from importlib.resources import files

from pyspark.sql import SparkSession

from discorecs.core.settings import Settings

LOG_CONFIG = files("spark_jobs") / "conf" / "spark-log4j2.properties"
"""Spark's log4j2 configuration: warnings only, so jobs print no INFO lines."""


def spark_jars(settings: Settings) -> list[str]:
    """Absolute paths of the connector jars Maven resolved into ``.jars/spark``."""
    jars = sorted(str(path) for path in (settings.jars_path / "spark").glob("*.jar"))
    if not jars:
        raise RuntimeError(f"no jars in {settings.jars_path / 'spark'}; run `make jars` first")
    return jars


def spark_session(settings: Settings, app_name: str) -> SparkSession:
    """Build (or return the running) SparkSession configured for the local cluster.

    The connector jars come from ``spark.jars`` (never ``spark.jars.packages``, which would need
    Ivy and the network at run time). Workers run the same Python as the driver.

    Args:
        settings: Spark master/memory, Cassandra address and jar folder.
        app_name: Name shown in logs and the Spark UI.

    Returns:
        The session.

    """
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    if settings.java_home:
        os.environ["JAVA_HOME"] = str(settings.java_home)
    log_option = f"-Dlog4j2.configurationFile=file:{LOG_CONFIG}"
    builder = (
        SparkSession.builder.master(settings.spark.master)
        .appName(app_name)
        .config("spark.driver.extraJavaOptions", log_option)
        .config("spark.executor.extraJavaOptions", log_option)
        .config("spark.jars", ",".join(spark_jars(settings)))
        .config("spark.driver.memory", settings.spark.driver_memory)
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(settings.spark.shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.streaming.stopGracefullyOnShutdown", "true")
        .config("spark.cassandra.connection.host", settings.cassandra.host)
        .config("spark.cassandra.connection.port", str(settings.cassandra.port))
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
