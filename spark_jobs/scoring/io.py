"""Cassandra access for the hourly batch: connector reads/writes and prepared driver statements."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent_with_args
from pyspark.sql import DataFrame, SparkSession

from discorecs.settings import Settings

CASSANDRA_FORMAT = "org.apache.spark.sql.cassandra"


def read_table(spark: SparkSession, settings: Settings, table: str) -> DataFrame:
    """Open one table of the configured keyspace as a DataFrame (through the connector)."""
    return (
        spark.read.format(CASSANDRA_FORMAT).options(table=table, keyspace=settings.keyspace).load()
    )


def write_table(df: DataFrame, settings: Settings, table: str, max_in_flight: int = 0) -> None:
    """Upsert a DataFrame's columns into a table (only the columns present are written).

    Args:
        df: Rows to write.
        settings: Keyspace.
        table: Target table.
        max_in_flight: When > 0, write from one task with at most this many concurrent
            mutations. Tables with a vector SAI index need it: Cassandra 5.0 fails mutations
            with "outstanding pooled objects has gone beyond the limit" under more.

    """
    writer = df.write.format(CASSANDRA_FORMAT).options(table=table, keyspace=settings.keyspace)
    if max_in_flight > 0:
        df = df.coalesce(1)
        writer = (
            df.write.format(CASSANDRA_FORMAT)
            .options(table=table, keyspace=settings.keyspace)
            .option("spark.cassandra.output.concurrent.writes", str(max_in_flight))
        )
    writer.mode("append").save()


def delete_changed_users(
    session: Session, keyspace: str, rows: Iterable[tuple[datetime, int]]
) -> int:
    """Delete exactly the staged ``(bucket, user_id)`` rows that were scored.

    Rows staged into the same buckets while the batch ran are not touched.

    Args:
        session: Driver session.
        keyspace: Keyspace of ``changed_users``.
        rows: ``(bucket, user_id)`` pairs read at the start of the run.

    Returns:
        Number of rows deleted.

    """
    statement = session.prepare(
        f"DELETE FROM {keyspace}.changed_users WHERE bucket = ? AND user_id = ?"
    )
    args = list(rows)
    execute_concurrent_with_args(
        session, statement, args, concurrency=64, raise_on_first_error=True
    )
    return len(args)


class BatchRunLog:
    """Records each step of one run in ``batch_runs`` (pipeline, run_id, step)."""

    def __init__(self, session: Session, keyspace: str, pipeline: str = "hourly") -> None:
        self.run_id = uuid.uuid1()
        self.pipeline = pipeline
        self._session = session
        self._insert = session.prepare(
            f"INSERT INTO {keyspace}.batch_runs (pipeline, run_id, step, status, rows, seconds, "
            "message) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )

    def record(self, step: str, status: str, rows: int, seconds: float, message: str = "") -> None:
        """Write one step's outcome."""
        self._session.execute(
            self._insert, (self.pipeline, self.run_id, step, status, rows, seconds, message)
        )
