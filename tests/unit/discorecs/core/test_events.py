"""The shared event schema: validation reasons, wire JSON, row templates, Spark schemas."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from discorecs.core import events

EVENT_ID = "6f1c2a3e-1111-4222-8333-123456789abc"
TIME = "2026-01-31T12:00:00.123Z"


def good(kind: str) -> dict:
    base = {"schema_version": 1, "event_id": EVENT_ID, "event_time": TIME, "user_id": 7}
    extras: dict[str, dict[str, object]] = {
        "users": {
            "name": 'Ann "DJ" Lee',
            "username": "annlee7",
            "email": "annlee7@example.org",
            "location": "Zürich, Switzerland",
            "joined_at": "2019-05-01T00:00:00.000Z",
        },
        "collections": {"release_id": 42, "action": "add"},
        "activity": {"release_id": 42, "kind": "play"},
    }
    return {**base, **extras[kind]}


def raw(obj: dict) -> bytes:
    return json.dumps(obj).encode()


@pytest.mark.parametrize("kind", events.KINDS)
def test_good_event_round_trips(kind: str) -> None:
    event, reason = events.validate(kind, raw(good(kind)))
    assert reason is None and event is not None
    assert events.to_dict(event) == good(kind)
    assert json.loads(events.to_json(event)) == good(kind)
    assert events.validate(kind, events.to_json(event)) == (event, None)


@pytest.mark.parametrize("kind", events.KINDS)
def test_row_template_matches_to_json(kind: str) -> None:
    event, _ = events.validate(kind, raw(good(kind)))
    assert event is not None
    values = tuple(
        json.dumps(getattr(event, s.name), ensure_ascii=False)
        if s.format == "text"
        else getattr(event, s.name)
        for s in events.field_specs(kind)
    )
    assert (events.row_template(kind) % values).encode() == events.to_json(event)


def test_prefixed_topic_names_resolve() -> None:
    assert events.kind_of_topic("t_abc.collections") == "collections"
    assert events.validate("t_abc.activity", raw(good("activity")))[1] is None
    with pytest.raises(ValueError):
        events.kind_of_topic("t_abc.dead_letters")


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        ("collections", b'{"schema_version":1,', "bad_json"),
        ("collections", b"\xff\xfe", "bad_json"),
        ("collections", b"[1, 2]", "bad_json:not an object"),
        ("collections", b"[" * 5000, "bad_json"),
        ("collections", None, "missing_field:user_id"),
        ("activity", None, "wrong_type:release_id"),
        ("activity", None, "wrong_type:user_id(bool)"),
        ("collections", None, "bad_value:action"),
        ("activity", None, "bad_value:kind"),
        ("users", None, "bad_value:joined_at"),
        ("users", None, "bad_value:name"),
        ("collections", None, "bad_value:event_id"),
        ("collections", None, "bad_value:schema_version"),
        ("collections", None, "oversize"),
    ],
)
def test_validator_reasons(kind: str, payload: bytes | None, expected: str) -> None:
    if payload is None:
        obj = good(kind)
        if expected == "missing_field:user_id":
            del obj["user_id"]
        elif expected == "wrong_type:release_id":
            obj["release_id"] = "42"
        elif expected.startswith("wrong_type:user_id"):
            obj["user_id"] = True
            expected = "wrong_type:user_id"
        elif expected == "bad_value:action":
            obj["action"] = "steal"
        elif expected == "bad_value:kind":
            obj["kind"] = "lick"
        elif expected == "bad_value:joined_at":
            obj["joined_at"] = "yesterday"
        elif expected == "bad_value:name":
            obj["name"] = "\ud800x"  # half of a UTF-16 pair: JSON spells it, UTF-8 cannot
        elif expected == "bad_value:event_id":
            obj["event_id"] = "not-a-uuid"
        elif expected == "bad_value:schema_version":
            obj["schema_version"] = 2
        else:
            obj["padding"] = "x" * events.MAX_EVENT_BYTES
        payload = raw(obj)
    event, reason = events.validate(kind, payload)
    assert event is None
    assert reason == expected
    assert events.validate_values(kind, payload) == (None, expected)
    assert events.reason_category(reason) in events.REASON_CATEGORIES


@pytest.mark.parametrize(
    ("event_time", "reason"),
    [
        ("1970-01-01T00:00:00.000Z", None),
        ("2199-12-31T23:59:59.999Z", None),
        ("1969-12-31T23:59:59.999Z", "bad_value:event_time"),
        ("2200-01-01T00:00:00.000Z", "bad_value:event_time"),
        ("9999-01-01T00:00:00.000Z", "bad_value:event_time"),
        ("0001-01-01T00:00:00.000Z", "bad_value:event_time"),
        ("2026-02-30T00:00:00.000Z", "bad_value:event_time"),
    ],
)
def test_event_times_outside_the_write_timestamps_range_are_bad(
    event_time: str, reason: str | None
) -> None:
    payload = raw({**good("collections"), "event_time": event_time})
    assert events.validate("collections", payload)[1] == reason
    assert events.validate_values("collections", payload)[1] == reason


def test_wire_time_is_utc_milliseconds_with_z() -> None:
    now = datetime(2026, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)
    assert events.wire_time(now) == "2026-01-31T12:00:00.123Z"
    plus_two = now.astimezone(timezone(timedelta(hours=2)))
    assert events.wire_time(plus_two) == "2026-01-31T12:00:00.123Z"


def test_the_latest_time_is_an_hour_after_the_record() -> None:
    written = datetime(2026, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)
    written_us = (written - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert events.latest_time(written_us) == "2026-01-31T13:00:00.123Z"


@pytest.mark.parametrize(
    ("field", "at", "reason"),
    [
        ("event_time", "2026-01-31T13:00:00.000Z", None),
        ("event_time", "2026-01-31T13:00:00.001Z", "bad_value:event_time"),
        ("event_time", "2199-12-31T23:59:59.999Z", "bad_value:event_time"),
        ("joined_at", "2026-01-31T13:00:00.001Z", "bad_value:joined_at"),
    ],
)
def test_times_after_the_latest_are_bad(field: str, at: str, reason: str | None) -> None:
    values, _ = events.validate_values("users", raw({**good("users"), field: at}))
    assert values is not None
    assert events.check_ahead("users", values, "2026-01-31T13:00:00.000Z") == reason


def test_unknown_release_is_a_separate_check() -> None:
    event, reason = events.validate("collections", raw(good("collections")))
    assert reason is None and event is not None
    assert events.check_release(event, {42}) is None
    assert events.check_release(event, {1, 2}) == "unknown_release:42"
    user, _ = events.validate("users", raw(good("users")))
    assert user is not None and events.check_release(user, set()) is None


def test_unknown_release_reason_is_in_the_unknown_release_category() -> None:
    reason = events.unknown_release_reason(123456789)
    assert reason == "unknown_release:123456789"
    assert events.reason_category(reason) == events.UNKNOWN_RELEASE
    assert events.UNKNOWN_RELEASE in events.REASON_CATEGORIES


@pytest.mark.parametrize("kind", events.KINDS)
def test_spark_schema_fields_match(kind: str) -> None:
    from pyspark.sql.types import LongType, StringType, TimestampType

    schema = events.spark_schema(kind)
    assert tuple(f.name for f in schema.fields) == events.field_names(kind)
    for spec, spark_field in zip(events.field_specs(kind), schema.fields, strict=True):
        if spec.type is int:
            assert spark_field.dataType == LongType()
        elif spec.format == events.TIMESTAMP:
            assert spark_field.dataType == TimestampType()
        else:
            assert spark_field.dataType == StringType()
    assert all(f.nullable for f in schema.fields)


def test_row_template_with_constants() -> None:
    template = events.row_template("activity", {"schema_version": 1, "kind": "want"})
    value = (template % (EVENT_ID, TIME, 7, 42)).encode()
    event, reason = events.validate("activity", value)
    assert reason is None and isinstance(event, events.ActivityEvent)
    assert event.kind == "want" and event.release_id == 42


def wire_values(kind: str, payload: bytes | None) -> tuple[tuple | None, str | None]:
    event, reason = events.validate(kind, payload)
    if event is None:
        return None, reason
    return tuple(getattr(event, name) for name in events.field_names(kind)), None


def edited(kind: str, **changes: object) -> bytes:
    return raw({**good(kind), **changes})


EDGE_PAYLOADS = [
    None,
    b"",
    b"null",
    b"[1, 2]",
    b'{"schema_version":1,',
    b"\xff\xfe",
    raw(good("collections")).decode().encode("utf-16"),
    b" " + raw(good("collections")) + b"\n",
    raw(good("collections")) + b"x",
    edited("collections", user_id=7.0),
    edited("collections", user_id=True),
    edited("collections", user_id=0),
    edited("collections", user_id=2**63 - 1),
    edited("collections", user_id=2**63),
    edited("collections", user_id=None),
    edited("collections", schema_version=1.0),
    edited("collections", schema_version="1"),
    edited("collections", event_id=EVENT_ID.upper()),
    edited("collections", event_id=EVENT_ID + "\n"),
    edited("collections", event_time="2026-02-30T12:00:00.123Z"),
    edited("collections", event_time="2026-01-31T12:00:00.123Z\n"),
    edited("collections", event_time="\u0662026-01-31T12:00:00.123Z"),
    edited("collections", event_time="2026-01-31T12:00:00Z"),
    edited("collections", action="ADD"),
    edited("collections", extra={"nested": [1, 2.5, None]}),
    edited("users", name="\ud800"),
    edited("users", name=""),
    edited("users", joined_at="2019-13-01T00:00:00.000Z"),
    b'{"schema_version":1,"event_id":"'
    + EVENT_ID.encode()
    + b'","event_time":"'
    + TIME.encode()
    + b'","user_id":NaN,"release_id":42,"action":"add"}',
    raw(good("collections"))[:-1] + b',"user_id":-1}',
    raw({**good("collections"), "user_id": -1})[:-1] + b',"user_id":7}',
    edited("collections", padding="x" * events.MAX_EVENT_BYTES),
    b"[" * 5000,
    raw(good("collections"))[:-1] + b',"extra":' + b"[" * 5000 + b"]" * 5000 + b"}",
]


@pytest.mark.parametrize("payload", EDGE_PAYLOADS)
@pytest.mark.parametrize("kind", events.KINDS)
def test_validate_values_gives_validates_outcome(kind: str, payload: bytes | None) -> None:
    assert events.validate_values(kind, payload) == wire_values(kind, payload)


def test_validate_values_agrees_on_a_produced_stream_with_malformed_events() -> None:
    from kafka_producers.demo_catalog import demo_catalog
    from kafka_producers.synthetic import EventStream

    stream = EventStream(demo_catalog(300), n_users=200, seed=4, bad_ratio=0.3)
    chunks = [stream.next_chunk(5_000, 1_796_000_000_000) for _ in range(2)]
    outcomes = [
        (
            events.validate_values(events.KINDS[topic], value),
            wire_values(events.KINDS[topic], value),
        )
        for chunk in chunks
        for topic, value in zip(chunk.topics, chunk.values, strict=True)
    ]
    assert all(fast == slow for fast, slow in outcomes)
    assert sum(slow[1] is not None for _, slow in outcomes) > 1_000


def test_dead_letter_values_are_the_bytes_cut_to_the_event_limit() -> None:
    assert events.dead_letter_value(None) == b""
    assert events.dead_letter_value(b"{}") == b"{}"
    assert events.dead_letter_value(memoryview(b"{}")) == b"{}"
    huge = b"x" * (events.MAX_EVENT_BYTES + 5)
    assert events.dead_letter_value(huge) == huge[: events.MAX_EVENT_BYTES]
