"""Reading and writing Cassandra tables through the Spark Cassandra connector."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from discorecs.core.settings import Settings
from discorecs.core.tables import Table

CASSANDRA_FORMAT = "org.apache.spark.sql.cassandra"


def read_table(
    spark: SparkSession, settings: Settings, table: Table, *, direct_join: bool = False
) -> DataFrame:
    """Open one table of the configured keyspace as a DataFrame.

    Args:
        spark: Session.
        settings: Keyspace.
        table: The table.
        direct_join: A join of this table on its partition key reads just those partitions
            (the connector's ``directJoinSetting=on``); by default the connector chooses from
            the table's size estimates, which a new or freshly loaded table lacks, and then
            scans the whole table.

    """
    options = {"table": table.name, "keyspace": settings.keyspace}
    if direct_join:
        options["directJoinSetting"] = "on"
    return spark.read.format(CASSANDRA_FORMAT).options(**options).load()


def write_table(frame: DataFrame, settings: Settings, table: Table) -> None:
    """Upsert a DataFrame's columns into a table (only the columns present are written)."""
    (
        frame.write.format(CASSANDRA_FORMAT)
        .options(table=table.name, keyspace=settings.keyspace)
        .mode("append")
        .save()
    )
