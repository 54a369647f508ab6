"""Reading and writing Cassandra tables through the Spark Cassandra connector."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from discorecs.core.settings import Settings
from discorecs.core.tables import Table

CASSANDRA_FORMAT = "org.apache.spark.sql.cassandra"


def read_table(spark: SparkSession, settings: Settings, table: Table) -> DataFrame:
    """Open one table of the configured keyspace as a DataFrame."""
    return (
        spark.read.format(CASSANDRA_FORMAT)
        .options(table=table.name, keyspace=settings.keyspace)
        .load()
    )


def write_table(frame: DataFrame, settings: Settings, table: Table) -> None:
    """Upsert a DataFrame's columns into a table (only the columns present are written)."""
    (
        frame.write.format(CASSANDRA_FORMAT)
        .options(table=table.name, keyspace=settings.keyspace)
        .mode("append")
        .save()
    )
