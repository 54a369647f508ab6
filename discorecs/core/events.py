"""The one definition of the ``users``, ``collections`` and ``activity`` events.

Each event kind is a frozen dataclass below; everything else is derived from those fields:
JSON serialisation for the producer (:func:`to_json`, :func:`row_template`), validation for the
consumer (:func:`validate`, :func:`check_release`, :func:`check_ahead`; :func:`validate_values`
is the stream's fast path to :func:`validate`'s outcome) and the Spark ``StructType``
(:func:`spark_schema`). Nothing else in the project lists the fields again.

Wire format (``schema_version`` 1): one UTF-8 JSON object per Kafka message, key = the decimal
``user_id``. ``event_id`` is a UUID string (unique per event, the idempotency key);
``event_time`` and ``joined_at`` are ISO-8601 UTC strings with milliseconds and a ``Z`` suffix,
e.g. ``2026-01-31T12:00:00.123Z``, at most :data:`MAX_AHEAD` after the Kafka record's own
timestamp. Ids are positive integers that fit a Cassandra ``bigint``.
A message longer than :data:`MAX_EVENT_BYTES` is rejected before it is parsed. Unknown extra
fields are ignored (forward compatibility); missing ones are an error.
"""

from __future__ import annotations

import json
import re
import typing
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec

from discorecs.core.tables import MAX_BIGINT

SCHEMA_VERSION = 1
MAX_EVENT_BYTES = 16 * 1024
"""Messages longer than this (in bytes) are dead-lettered as ``oversize``."""


def dead_letter_value(value: bytes | bytearray | memoryview | None) -> bytes:
    """The value a bad record is dead-lettered with: its bytes, cut to :data:`MAX_EVENT_BYTES`.

    An oversize record is cut because, whole, one near Kafka's own message limit could not be
    sent with the dead letter's key and headers (the original stays in its topic). A record
    without a value gets an empty one (a null value on the compacted topic is a tombstone).
    """
    return b"" if value is None else bytes(value[:MAX_EVENT_BYTES])


TIMESTAMP = "timestamp"
UUID = "uuid"

OVERSIZE = "oversize"
BAD_JSON = "bad_json"
MISSING_FIELD = "missing_field"
WRONG_TYPE = "wrong_type"
BAD_VALUE = "bad_value"
UNKNOWN_RELEASE = "unknown_release"
REASON_CATEGORIES = (OVERSIZE, BAD_JSON, MISSING_FIELD, WRONG_TYPE, BAD_VALUE, UNKNOWN_RELEASE)
"""Every reason returned by :func:`validate` / :func:`check_release` starts with one of these."""

_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
"""Half of a UTF-16 pair: JSON can spell it (``"\\ud800"``), UTF-8 text cannot hold it."""
_TS_RE = re.compile(r"(?:19[7-9]\d|2[01]\d\d)-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
"""A UTC millisecond timestamp of the years 1970-2199: the collection writer's write timestamp
(event-time milliseconds times 10^6 plus the offset) stays a positive bigint, whose last year
is 2262; a replay judges an event the same way whatever the day."""
MAX_AHEAD = timedelta(hours=1)
"""How far an event's times may lie after its Kafka record's own timestamp (:func:`check_ahead`).
The collection writer orders a user's changes by event time, so an add stamped years ahead would
outrank every later remove of that release; judged against the record's timestamp, fixed once
the record is written, a replay still judges the event the same way."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _fmt(kind: str) -> Any:
    return field(metadata={"format": kind})


def _choices(*values: str) -> Any:
    return field(metadata={"choices": values})


@dataclass(frozen=True, slots=True)
class Event:
    """Fields shared by every event."""

    schema_version: int
    event_id: str = _fmt(UUID)
    event_time: str = _fmt(TIMESTAMP)
    user_id: int = _fmt("id")


@dataclass(frozen=True, slots=True)
class UserEvent(Event):
    """A user's profile (topic ``users``); the latest one per ``user_id`` wins."""

    name: str = _fmt("text")
    username: str = _fmt("text")
    email: str = _fmt("text")
    location: str = _fmt("text")
    joined_at: str = _fmt(TIMESTAMP)


@dataclass(frozen=True, slots=True)
class CollectionEvent(Event):
    """A release added to or removed from a user's collection (topic ``collections``)."""

    release_id: int = _fmt("id")
    action: str = _choices("add", "remove")


@dataclass(frozen=True, slots=True)
class ActivityEvent(Event):
    """A user viewing, playing or wanting a release (topic ``activity``)."""

    release_id: int = _fmt("id")
    kind: str = _choices("view", "play", "want")


EVENT_TYPES: dict[str, type[Event]] = {
    "users": UserEvent,
    "collections": CollectionEvent,
    "activity": ActivityEvent,
}
KINDS: tuple[str, ...] = tuple(EVENT_TYPES)
"""Event kinds; each is also the unprefixed name of its topic."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of an event kind, as derived from its dataclass.

    Attributes:
        name: JSON key.
        type: ``int`` or ``str``.
        format: ``"id"`` (positive bigint), ``"uuid"``, ``"timestamp"``, ``"text"`` or ``None``.
        choices: Allowed values, or empty when any value of the type is allowed.

    """

    name: str
    type: type
    format: str | None
    choices: tuple[str, ...]


def _derive_specs(cls: type[Event]) -> tuple[FieldSpec, ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        FieldSpec(f.name, hints[f.name], f.metadata.get("format"), f.metadata.get("choices", ()))
        for f in fields(cls)
    )


_SPECS: dict[str, tuple[FieldSpec, ...]] = {k: _derive_specs(c) for k, c in EVENT_TYPES.items()}


def field_specs(kind: str) -> tuple[FieldSpec, ...]:
    """Return the fields of one event kind, in wire order.

    Args:
        kind: One of :data:`KINDS`.

    Returns:
        The field specs, derived from the kind's dataclass.

    """
    return _SPECS[_kind(kind)]


def field_names(kind: str) -> tuple[str, ...]:
    """Return the JSON keys of one event kind, in wire order."""
    return tuple(spec.name for spec in field_specs(kind))


def field_choices(kind: str, name: str) -> tuple[str, ...]:
    """Return the values one field of one event kind may take, in declaration order."""
    return next(spec.choices for spec in field_specs(kind) if spec.name == name)


def kind_of_topic(topic: str) -> str:
    """Map a topic name, with or without the configured prefix, to its event kind.

    Args:
        topic: ``"activity"`` or e.g. ``"t42_activity"``.

    Returns:
        The event kind.

    Raises:
        ValueError: If the topic carries no event kind.

    """
    if topic in EVENT_TYPES:
        return topic
    for kind in KINDS:
        if topic.endswith(kind):
            return kind
    raise ValueError(f"topic {topic!r} is not one of the event topics {KINDS}")


def _kind(kind: str) -> str:
    return kind if kind in EVENT_TYPES else kind_of_topic(kind)


COLLECTION_ACTIONS = field_choices("collections", "action")
"""``add``, ``remove``."""
ACTIVITY_KINDS = field_choices("activity", "kind")
"""``view``, ``play``, ``want``."""


def to_dict(event: Event) -> dict[str, Any]:
    """Return the event as a JSON-ready dict, keys in wire order."""
    return {name: getattr(event, name) for name in field_names(kind_of_event(event))}


def kind_of_event(event: Event) -> str:
    """Return the kind (and unprefixed topic) of an event instance."""
    for kind, cls in EVENT_TYPES.items():
        if type(event) is cls:
            return kind
    raise TypeError(f"not an event: {event!r}")


def to_json(event: Event) -> bytes:
    """Serialise one event to its wire bytes (compact UTF-8 JSON)."""
    return json.dumps(to_dict(event), separators=(",", ":"), ensure_ascii=False).encode()


def row_template(kind: str, constants: dict[str, Any] | None = None) -> str:
    """Return a ``%``-format template giving the wire JSON of one kind from a value tuple.

    The producer's fast path: ``(row_template(kind) % values).encode()`` equals
    ``to_json(event)`` for the same values in wire order, provided ``int`` fields get ints,
    ``"text"`` fields get ``json.dumps(value, ensure_ascii=False)`` (already quoted) and the other
    string fields (uuid, timestamp, choices) get their plain value, which never needs escaping.
    Fields in ``constants`` are written into the template instead and take no value.

    Args:
        kind: One of :data:`KINDS`.
        constants: Field name -> fixed value (e.g. ``{"schema_version": 1, "action": "add"}``).

    Returns:
        The template string.

    """
    constants = constants or {}
    parts = []
    for spec in field_specs(kind):
        if spec.name in constants:
            value = json.dumps(constants[spec.name], ensure_ascii=False).replace("%", "%%")
        elif spec.type is int:
            value = "%d"
        elif spec.format == "text":
            value = "%s"
        else:
            value = '"%s"'
        parts.append(f'"{spec.name}":{value}')
    return "{" + ",".join(parts) + "}"


def _check_value(spec: FieldSpec, value: Any) -> str | None:
    if spec.type is int:
        if type(value) is not int:
            return f"{WRONG_TYPE}:{spec.name}"
        if spec.name == "schema_version":
            return None if value == SCHEMA_VERSION else f"{BAD_VALUE}:{spec.name}"
        if spec.format == "id" and not 0 < value <= MAX_BIGINT:
            return f"{BAD_VALUE}:{spec.name}"
        return None
    if type(value) is not str:
        return f"{WRONG_TYPE}:{spec.name}"
    if _SURROGATE_RE.search(value):
        return f"{BAD_VALUE}:{spec.name}"
    if spec.choices and value not in spec.choices:
        return f"{BAD_VALUE}:{spec.name}"
    if spec.format == UUID and not _UUID_RE.fullmatch(value):
        return f"{BAD_VALUE}:{spec.name}"
    if spec.format == TIMESTAMP and not _valid_timestamp(value):
        return f"{BAD_VALUE}:{spec.name}"
    return None


def _valid_timestamp(value: str) -> bool:
    if not _TS_RE.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def validate(
    topic: str, raw: bytes | bytearray | memoryview | str | None
) -> tuple[Event | None, str | None]:
    """Parse and check one message of an event topic.

    Args:
        topic: The event kind or the (prefixed) topic name the message came from.
        raw: The message value.

    Returns:
        ``(event, None)`` when valid, else ``(None, reason)`` where ``reason`` is
        ``"<category>"`` or ``"<category>:<field>"`` with a category from
        :data:`REASON_CATEGORIES` (all but ``unknown_release``, see :func:`check_release`).

    """
    kind = _kind(topic)
    if raw is None:
        return None, f"{BAD_JSON}:null message"
    size = len(raw.encode()) if isinstance(raw, str) else len(raw)
    if size > MAX_EVENT_BYTES:
        return None, OVERSIZE
    try:
        obj = json.loads(bytes(raw) if isinstance(raw, memoryview) else raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, BAD_JSON
    if type(obj) is not dict:
        return None, f"{BAD_JSON}:not an object"
    values = []
    for spec in _SPECS[kind]:
        if spec.name not in obj:
            return None, f"{MISSING_FIELD}:{spec.name}"
        value = obj[spec.name]
        reason = _check_value(spec, value)
        if reason:
            return None, reason
        values.append(value)
    return EVENT_TYPES[kind](*values), None


def _anchored(pattern: re.Pattern[str]) -> str:
    """The pattern as msgspec applies it (``re.search``) with ``fullmatch``'s meaning."""
    flags = "(?i)" if pattern.flags & re.IGNORECASE else ""
    return flags + r"\A(?:" + pattern.pattern + r")\Z"


def _msgspec_type(spec: FieldSpec) -> Any:
    """The msgspec type accepting what :func:`_check_value` passes (dates checked after)."""
    if spec.name == "schema_version":
        return Literal[SCHEMA_VERSION]
    if spec.type is int:
        return Annotated[int, msgspec.Meta(gt=0, le=MAX_BIGINT)] if spec.format == "id" else int
    if spec.choices:
        return Literal[spec.choices]
    if spec.format == UUID:
        return Annotated[str, msgspec.Meta(pattern=_anchored(_UUID_RE))]
    if spec.format == TIMESTAMP:
        return Annotated[str, msgspec.Meta(pattern=_anchored(_TS_RE))]
    return str


_DECODERS = {
    kind: msgspec.json.Decoder(
        msgspec.defstruct(f"{cls.__name__}Wire", [(s.name, _msgspec_type(s)) for s in specs])
    )
    for (kind, specs), cls in zip(_SPECS.items(), EVENT_TYPES.values(), strict=True)
}
_TIMESTAMP_AT = {
    kind: tuple(i for i, s in enumerate(specs) if s.format == TIMESTAMP)
    for kind, specs in _SPECS.items()
}


def validate_values(topic: str, raw: bytes | None) -> tuple[tuple[Any, ...] | None, str | None]:
    """:func:`validate`'s outcome, with the event's field values in wire order; fast.

    One msgspec decoder per kind, derived from the same field specs, accepts a well-formed
    event in a single pass; whatever it rejects goes through :func:`validate`, so every
    reason is exactly that function's.

    Args:
        topic: The event kind or the (prefixed) topic name the message came from.
        raw: The message value.

    Returns:
        ``(values, None)`` when valid, else ``(None, reason)``.

    """
    kind = _kind(topic)
    if raw is not None and len(raw) <= MAX_EVENT_BYTES:
        try:
            values = msgspec.structs.astuple(_DECODERS[kind].decode(raw))
            for at in _TIMESTAMP_AT[kind]:
                datetime.fromisoformat(values[at])
        except (msgspec.DecodeError, ValueError, RecursionError):
            pass
        else:
            return values, None
    event, reason = validate(kind, raw)
    return (
        (None, reason)
        if event is None
        else (tuple(getattr(event, s.name) for s in _SPECS[kind]), None)
    )


def wire_time(moment: datetime) -> str:
    """An aware datetime in the wire format: UTC, milliseconds, ``Z`` suffix."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def latest_time(written_us: int) -> str:
    """The latest time an event may carry when its Kafka record was written at ``written_us``.

    Args:
        written_us: The record's timestamp, microseconds since the epoch.

    Returns:
        That time plus :data:`MAX_AHEAD`, in the wire format (:func:`wire_time`).

    """
    return wire_time(_EPOCH + timedelta(microseconds=written_us) + MAX_AHEAD)


def check_ahead(topic: str, values: tuple[Any, ...], latest: str) -> str | None:
    """Check that a valid event's times lie no later than ``latest``.

    Wire times are fixed-width, so their text orders as their moments do.

    Args:
        topic: The event kind or the (prefixed) topic name the message came from.
        values: The event's values in wire order (:func:`validate_values`).
        latest: The latest time allowed, in the wire format (:func:`latest_time`).

    Returns:
        ``None``, or ``"bad_value:<field>"`` for the first time after ``latest``.

    """
    kind = _kind(topic)
    for at in _TIMESTAMP_AT[kind]:
        if values[at] > latest:
            return f"{BAD_VALUE}:{_SPECS[kind][at].name}"
    return None


def check_release(event: Event, known_release_ids: typing.Container[int]) -> str | None:
    """Check that an event's release exists in the catalogue.

    Args:
        event: A valid event from :func:`validate`.
        known_release_ids: The catalogue's release ids (e.g. a ``set``).

    Returns:
        ``None`` if the event has no release or the release is known, else
        ``"unknown_release:<id>"``.

    """
    release_id = getattr(event, "release_id", None)
    if release_id is None or release_id in known_release_ids:
        return None
    return unknown_release_reason(release_id)


def unknown_release_reason(release_id: int) -> str:
    """The dead-letter reason of an event whose release is not in the catalogue."""
    return f"{UNKNOWN_RELEASE}:{release_id}"


def reason_category(reason: str) -> str:
    """Return the category of a reason (``"missing_field:user_id"`` -> ``"missing_field"``)."""
    return reason.split(":", 1)[0]


def spark_schema(kind: str) -> Any:
    """Return the Spark ``StructType`` of one event kind, derived from the same fields.

    ``int`` fields become ``LongType``, timestamp fields ``TimestampType``, other strings
    ``StringType``. Every field is nullable: an invalid record keeps only its reason.

    Args:
        kind: One of :data:`KINDS` or a (prefixed) topic name.

    Returns:
        A ``pyspark.sql.types.StructType``.

    """
    from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

    def spark_type(spec: FieldSpec) -> Any:
        if spec.type is int:
            return LongType()
        if spec.format == TIMESTAMP:
            return TimestampType()
        return StringType()

    return StructType([StructField(s.name, spark_type(s), True) for s in field_specs(kind)])
