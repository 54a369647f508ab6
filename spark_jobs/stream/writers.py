"""One writer per output of a micro-batch; each can be replayed without changing the result.

Activity rows are upserts on their primary key; profiles and collection changes carry a logical
write timestamp (:data:`WRITE_TIMESTAMP`); trending counts are keyed by ``batch_id``, so a
replayed batch overwrites its own rows; staging rows (users with a collection change or a
profile) are a set; dead letters are keyed by their source coordinates on a compacted topic.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from discorecs.core.settings import Settings
from discorecs.core.tables import PROFILE_COLUMNS, USER_ACTIVITY
from spark_jobs.connector import write_table
from spark_jobs.stream.collection_writer import WRITE_TIMESTAMP, write_partition
from spark_jobs.stream.dead_letters import send_partition
from spark_jobs.stream.driver_state import DriverState


def write_activity(
    good: DataFrame,
    settings: Settings,
    state: DriverState,
    batch_id: int,
    trending: dict[tuple[datetime, int], int],
) -> None:
    """Upsert activity rows, then this batch's trending counts.

    One user's rows go side by side, so the connector batches them per partition.
    """
    rows = good.where(F.col("event_kind") == "activity").select(*USER_ACTIVITY.column_names)
    write_table(rows.sortWithinPartitions("user_id"), settings, USER_ACTIVITY)
    state.write_trending(batch_id, trending)


def write_collections(good: DataFrame, settings: Settings) -> tuple[int, int]:
    """Write each user's last profile and each (user, release)'s last action, stage the users.

    The last is the one with the greatest write timestamp (event time, then Kafka offset: the
    order within a user's partition). A user is staged in the hour bucket of each final change
    and of each profile event of theirs in the batch: a profile alone stages its user (with no
    change to write), so the hourly job learns of new users from ``changed_users`` without
    scanning ``users``. Each Spark task writes its profiles and changes before it stages their
    users.

    No shuffle: the batch's Spark partitions hold whole Kafka partitions, so one user's changes
    (one partition of ``collections``, keyed by user) are grouped by a single task
    (:func:`~.collection_writer.latest_by_user`). A user's profile comes from the ``users``
    topic and may sit in the other task: that task stages the user after writing the profile,
    as if the two had come in consecutive micro-batches.

    Returns:
        (collection row mutations written, distinct users staged).

    """
    rows = good.where(F.col("event_kind").isin("collections", "users")).select(
        "user_id",
        "event_kind",
        "release_id",
        "action",
        "event_time",
        F.expr(WRITE_TIMESTAMP).alias("write_ts"),
        staging_bucket("event_time").alias("bucket"),
        *PROFILE_COLUMNS,
    )
    written = rows.rdd.mapPartitions(lambda part: write_partition(settings, part)).collect()
    return sum(m for m, _ in written), len(set().union(*(staged for _, staged in written)))


def staging_bucket(event_time: str) -> Column:
    """The ``changed_users`` hour bucket of an event: its hour, but never a later hour than now.

    The hourly run reads the buckets up to its own hour, so an event stamped ahead (a producer's
    fast clock) would stage its user where no run looks until that hour came.
    """
    return F.least(F.date_trunc("hour", event_time), F.date_trunc("hour", F.current_timestamp()))


def write_dead_letters(bad: DataFrame, settings: Settings) -> int:
    """Send the bad records to ``dead_letters`` from the workers that hold them.

    See :mod:`.dead_letters`; every partition's producer is flushed before its task ends.

    Returns:
        Records sent.

    """
    columns = ("topic", "partition", "offset", "value", "reason", "release_id")
    counts = bad.select(*columns).rdd.mapPartitions(lambda rows: send_partition(settings, rows))
    return sum(counts.collect())
