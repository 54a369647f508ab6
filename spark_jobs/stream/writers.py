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
from discorecs.core.tables import USER_ACTIVITY, USERS
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
    scanning ``users``. Profiles and changes are written before any user is staged.

    Returns:
        (collection row mutations written, distinct users staged).

    """
    kind = F.col("event_kind")
    change = kind == "collections"
    # One exchange: rows hashed by user, both groupings below stay within a user's partition.
    # A partition per core, fixed: by column alone, adaptive execution coalesced a batch's few
    # hundred KB into one partition, so one Python worker wrote every user's changes.
    rows = (
        good.where(kind.isin("collections", "users"))
        .withColumn("write_ts", F.expr(WRITE_TIMESTAMP))
        .repartition(good.sparkSession.sparkContext.defaultParallelism, "user_id")
    )
    # Each (user, release)'s last change; a user's profile events group on their own.
    profile = F.struct("write_ts", *USERS.value_columns)
    final = rows.groupBy("user_id", "event_kind", "release_id").agg(
        F.max_by(F.struct("action", "event_time", "write_ts"), "write_ts").alias("last"),
        F.max_by(F.when(~change, profile), "write_ts").alias("profile"),
        F.collect_set(F.when(~change, staging_bucket("event_time"))).alias("hours"),
    )
    bucket = F.array(staging_bucket("last.event_time"))
    per_user = final.groupBy("user_id").agg(
        F.max("profile").alias("profile"),
        F.collect_list(F.when(change, F.struct("release_id", "last.*"))).alias("changes"),
        F.array_distinct(
            F.flatten(F.collect_list(F.when(change, bucket).otherwise(F.col("hours"))))
        ).alias("buckets"),
    )
    written = per_user.rdd.mapPartitions(lambda rows: write_partition(settings, rows)).collect()
    return sum(m for m, _ in written), sum(u for _, u in written)


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
