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
    """Upsert a DataFrame's columns into a table (only the columns present are written).

    A table with clustering columns goes in UNLOGGED batches of one partition each (the
    session's grouping), so a user's rows are one mutation. A table whose partition is one row
    (``users_scored``, ``release_scores``, ``releases``) goes in batches of
    ``connector_row_batch`` rows sharing their replicas, not a request a row, with the concurrent
    writes divided by that size so each task keeps ``connector_concurrent_writes`` rows in
    flight: 1M ``users_scored`` rows with their taste vectors cost the node a quarter less CPU
    than single rows (docs/benchmarks.md, "Nineteenth pass").
    """
    writer = frame.write.format(CASSANDRA_FORMAT).options(
        table=table.name, keyspace=settings.keyspace
    )
    rows = settings.spark.connector_row_batch
    if not table.clustering and rows > 1:
        writer = writer.options(
            **{
                "spark.cassandra.output.batch.grouping.key": "replica_set",
                "spark.cassandra.output.batch.size.rows": str(rows),
                "spark.cassandra.output.concurrent.writes": str(
                    max(1, settings.spark.connector_concurrent_writes // rows)
                ),
            }
        )
    writer.mode("append").save()
