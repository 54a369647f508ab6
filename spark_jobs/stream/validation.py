"""Parse and check raw Kafka records with the shared event schema, inside Spark.

Records are validated by :func:`discorecs.core.events.validate_values` (the outcome of
:func:`~discorecs.core.events.validate`, which the API and tests use, by a faster path) and their
times checked against the record's own by :func:`~discorecs.core.events.check_ahead`, through
``mapInArrow`` (Arrow record batches in and out, no pandas in the hot path). The output schema
is derived from the event dataclasses: one column per event field (the union over kinds), plus
the record's Kafka coordinates, original bytes and the rejection reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql.types import (
    BinaryType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from discorecs.core import events

KAFKA_COLUMNS = ("topic", "partition", "offset", "value")
"""The Kafka source's columns each output row keeps."""
RECORD_TIME = "timestamp"
"""The Kafka source's column of each record's own timestamp: read, not kept (an event's times
may lie at most :data:`~discorecs.core.events.MAX_AHEAD` after it)."""


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
            StructField("value", BinaryType()),
            *event_fields(),
        ]
    )


def _arrow_type(spark_type: object) -> pa.DataType:
    if isinstance(spark_type, LongType):
        return pa.int64()
    if isinstance(spark_type, TimestampType):
        return pa.timestamp("us", tz="UTC")
    return pa.string()


def _spread(kind: str, names: list[str]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """Maps a ``kind`` event's values (wire order) padded with one ``None`` to ``names``."""
    own = events.field_names(kind)
    return itemgetter(*(own.index(n) if n in own else len(own) for n in names))


def validate_batches(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` function: one output row per Kafka record, valid or not.

    Args:
        batches: Arrow batches with the columns of :data:`KAFKA_COLUMNS` and
            :data:`RECORD_TIME`.

    Yields:
        Batches in :func:`validated_schema`; ``reason`` is null for valid events, whose fields
        are filled in; invalid ones keep only their coordinates, bytes and reason.

    """
    fields = event_fields()
    names = [f.name for f in fields]
    empty = (None,) * len(names)
    spread = {kind: _spread(kind, names) for kind in events.KINDS}
    kinds: dict[str, str] = {}
    for batch in batches:
        kind_column, reasons, rows = [], [], []
        topics = batch.column("topic").to_pylist()
        payloads = batch.column("value").to_pylist()
        written = pc.cast(batch.column(RECORD_TIME), pa.int64()).to_pylist()
        floor = events.latest_time(min(written, default=0))  # what every record may carry
        for topic, value, written_us in zip(topics, payloads, written, strict=True):
            kind = kinds.get(topic) or kinds.setdefault(topic, events.kind_of_topic(topic))
            values, reason = events.validate_values(kind, value)
            if values is not None and events.check_ahead(kind, values, floor):
                reason = events.check_ahead(kind, values, events.latest_time(written_us))
                values = None if reason else values
            kind_column.append(kind)
            reasons.append(reason)
            rows.append(empty if values is None else spread[kind]((*values, None)))
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        arrays = [pa.array(kind_column, pa.string()), pa.array(reasons, pa.string())]
        arrays += [batch.column(name) for name in KAFKA_COLUMNS]
        for spark_field, values in zip(fields, columns, strict=True):
            arrow_type = _arrow_type(spark_field.dataType)
            if pa.types.is_timestamp(arrow_type):
                arrays.append(pa.array(values, pa.string()).cast(arrow_type))
            else:
                arrays.append(pa.array(values, arrow_type))
        yield pa.RecordBatch.from_arrays(arrays, names=validated_schema().fieldNames())
