"""Validation inside Spark's mapInArrow: every record kept, with its fields or its reason."""

import json
from datetime import UTC, datetime

import pyarrow as pa

from discorecs.core import events
from spark_jobs.stream.validation import (
    KAFKA_COLUMNS,
    RECORD_TIME,
    event_fields,
    validate_batches,
    validated_schema,
)

GOOD = {
    "schema_version": 1,
    "event_id": "0b6f2a8e-2a51-4c7e-9b1e-3f8f2f5f9a10",
    "event_time": "2026-01-31T12:00:00.123Z",
    "user_id": 7,
    "release_id": 42,
    "action": "add",
}


PROFILE_WITH_HALF_A_PAIR = {
    **{k: GOOD[k] for k in ("schema_version", "event_id", "event_time", "user_id")},
    "name": "\ud800x",  # valid JSON, but no UTF-8 string: Arrow could not hold it
    "username": "u",
    "email": "e",
    "location": "l",
    "joined_at": GOOD["event_time"],
}


WRITTEN = datetime(2026, 1, 31, 12, 30, tzinfo=UTC)
"""The records' Kafka timestamp: half an hour after :data:`GOOD`'s event time."""


def kafka_batch(records: list[tuple[str, bytes]]) -> pa.RecordBatch:
    n = len(records)
    return pa.RecordBatch.from_arrays(
        [
            pa.array([topic for topic, _ in records], pa.string()),
            pa.array([0] * n, pa.int32()),
            pa.array(range(n), pa.int64()),
            pa.array([value for _, value in records], pa.binary()),
            pa.array([WRITTEN] * n, pa.timestamp("us", tz="UTC")),
        ],
        names=[*KAFKA_COLUMNS, RECORD_TIME],
    )


def test_validation_keeps_every_record_with_fields_or_reason() -> None:
    records = [
        ("p.collections", json.dumps(GOOD).encode()),
        ("p.collections", b"{not json"),
        ("p.activity", json.dumps(GOOD).encode()),
        ("p.collections", b"x" * (events.MAX_EVENT_BYTES + 1)),
        ("p.users", json.dumps(PROFILE_WITH_HALF_A_PAIR).encode()),
    ]
    (out,) = list(validate_batches(iter([kafka_batch(records)])))
    assert out.schema.names == validated_schema().fieldNames()
    rows = out.to_pylist()
    reasons = [None, "bad_json", "missing_field:kind", "oversize", "bad_value:name"]
    assert [r["reason"] for r in rows] == reasons
    assert [r["offset"] for r in rows] == [0, 1, 2, 3, 4]
    assert rows[0]["user_id"] == 7 and rows[0]["release_id"] == 42 and rows[0]["action"] == "add"
    assert rows[0]["event_time"] == datetime(2026, 1, 31, 12, 0, 0, 123000, tzinfo=UTC)
    assert rows[1]["user_id"] is None and rows[1]["value"] == b"{not json"


def test_an_event_time_over_an_hour_after_its_record_is_a_bad_value() -> None:
    within = {**GOOD, "event_time": "2026-01-31T13:30:00.000Z"}  # the record's time + 1 hour
    ahead = {**GOOD, "event_time": "2026-01-31T13:30:00.001Z"}
    profile = {**PROFILE_WITH_HALF_A_PAIR, "name": "n", "joined_at": "2199-01-01T00:00:00.000Z"}
    records = [
        ("p.collections", json.dumps(within).encode()),
        ("p.collections", json.dumps(ahead).encode()),
        ("p.users", json.dumps(profile).encode()),
    ]
    (out,) = list(validate_batches(iter([kafka_batch(records)])))
    reasons = [row["reason"] for row in out.to_pylist()]
    assert reasons == [None, "bad_value:event_time", "bad_value:joined_at"]


def test_event_fields_are_the_union_of_the_kinds_each_named_once() -> None:
    names = [f.name for f in event_fields()]
    assert len(names) == len(set(names))
    assert set(names) == {name for kind in events.KINDS for name in events.field_names(kind)}


def test_an_empty_batch_stays_empty() -> None:
    (out,) = list(validate_batches(iter([kafka_batch([])])))
    assert out.num_rows == 0
    assert out.schema.names == validated_schema().fieldNames()
