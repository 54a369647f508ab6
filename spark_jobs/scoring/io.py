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


def write_table(df: DataFrame, settings: Settings, table: str) -> None:
    """Upsert a DataFrame's columns into a table (only the columns present are written)."""
    df.write.format(CASSANDRA_FORMAT).options(table=table, keyspace=settings.keyspace).mode(
        "append"
    ).save()


def clear_staged_buckets(
    session: Session, keyspace: str, buckets: Iterable[datetime], written_before: int
) -> int:
    """Clear the staged users of the given hour buckets that were written before a moment.

    One partition deletion per bucket, ``USING TIMESTAMP written_before``: it hides exactly the
    rows staged up to then and leaves one tombstone per bucket, not one per user (a million row
    tombstones would make the next scan fail). Users staged later, into the same buckets or
    again, stay staged for the next run.

    Args:
        session: Driver session.
        keyspace: Keyspace of ``changed_users``.
        buckets: Buckets read at the start of the run.
        written_before: Write timestamp bound (microseconds since the epoch).

    Returns:
        Number of buckets cleared.

    """
    statement = session.prepare(
        f"DELETE FROM {keyspace}.changed_users USING TIMESTAMP ? WHERE bucket = ?"
    )
    args = [(written_before, bucket) for bucket in sorted(set(buckets))]
    execute_concurrent_with_args(session, statement, args, raise_on_first_error=True)
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
