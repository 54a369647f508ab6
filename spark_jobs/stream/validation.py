"""Parse and check raw Kafka records with the shared event schema, inside Spark.

Records are validated by :func:`kafka_producers.events.validate`, the same code the producer's
truth file and tests use, through ``mapInPandas`` (Arrow batches, one Python pass per record).
The output schema is derived from the event dataclasses: one column per event field (the union
over kinds), plus the record's Kafka coordinates, original bytes and the rejection reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
from pyspark.sql.types import (
    BinaryType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from kafka_producers import events

KAFKA_COLUMNS = ("topic", "partition", "offset", "key", "value")


def event_fields() -> list[StructField]:
    """The union of every event kind's Spark fields, each named once, in wire order."""
    seen: dict[str, StructField] = {}
    for kind in events.KINDS:
        for spark_field in events.spark_schema(kind).fields:
            seen.setdefault(spark_field.name, spark_field)
    return list(seen.values())


def validated_schema() -> StructType:
    """Schema of :func:`validate_batches`' output."""
    return StructType(
        [
            StructField("event_kind", StringType()),
            StructField("reason", StringType()),
            StructField("topic", StringType()),
            StructField("partition", IntegerType()),
            StructField("offset", LongType()),
            StructField("key", BinaryType()),
            StructField("value", BinaryType()),
            *event_fields(),
        ]
    )


def _timestamp_columns() -> list[str]:
    return sorted(
        {
            spec.name
            for kind in events.KINDS
            for spec in events.field_specs(kind)
            if spec.format == events.TIMESTAMP
        }
    )


def validate_batches(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """``mapInPandas`` function: one output row per Kafka record, valid or not.

    Args:
        frames: Arrow batches with the columns of :data:`KAFKA_COLUMNS`.

    Yields:
        Frames in :func:`validated_schema`; ``reason`` is null for valid events, whose fields
        are filled in; invalid ones keep only their coordinates, bytes and reason.

    """
    names = [f.name for f in event_fields()]
    timestamps = _timestamp_columns()
    for frame in frames:
        rows: list[dict[str, Any]] = []
        for topic, value in zip(frame["topic"], frame["value"], strict=True):
            kind = events.kind_of_topic(topic)
            event, reason = events.validate(kind, value)
            row: dict[str, Any] = {"event_kind": kind, "reason": reason}
            if event is not None:
                row.update(events.to_dict(event))
            rows.append(row)
        out = pd.DataFrame.from_records(rows, columns=["event_kind", "reason", *names])
        for column in timestamps:
            out[column] = pd.to_datetime(out[column], utc=True, format="ISO8601")
        for column in KAFKA_COLUMNS:
            out[column] = frame[column].to_numpy()
        yield out[validated_schema().fieldNames()]
