"""Events built by the API pass the one event schema's validation, or fail with its reason."""

import json
from datetime import UTC, datetime

import pytest

from discorecs.app.api.events import (
    ACTIVITY_KINDS,
    COLLECTION_ACTIONS,
    EVENT_KINDS,
    InvalidEvent,
    build_event,
)
from discorecs.core import events

NOW = datetime(2026, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)


def test_the_accepted_kinds_are_the_schema_choices() -> None:
    assert COLLECTION_ACTIONS == ("add", "remove")
    assert ACTIVITY_KINDS == ("view", "play", "want")
    assert EVENT_KINDS == COLLECTION_ACTIONS + ACTIVITY_KINDS


@pytest.mark.parametrize(
    ("kind", "topic", "field", "value"),
    [
        ("add", "collections", "action", "add"),
        ("remove", "collections", "action", "remove"),
        ("view", "activity", "kind", "view"),
        ("want", "activity", "kind", "want"),
    ],
)
def test_each_kind_goes_to_its_topic_and_validates(
    kind: str, topic: str, field: str, value: str
) -> None:
    event = build_event(kind, 42, 1001, now=NOW)
    assert event.topic_kind == topic
    parsed, reason = events.validate(topic, event.value)
    assert reason is None and parsed is not None
    body = json.loads(event.value)
    assert body[field] == value
    assert body["user_id"] == 42 and body["release_id"] == 1001
    assert body["event_id"] == event.event_id
    assert body["event_time"] == "2026-01-31T12:00:00.123Z"
    assert body["schema_version"] == events.SCHEMA_VERSION


def test_every_event_gets_its_own_id() -> None:
    assert build_event("add", 1, 2).event_id != build_event("add", 1, 2).event_id


@pytest.mark.parametrize(
    ("kind", "user_id", "release_id", "reason"),
    [
        ("add", 1, 0, "bad_value:release_id"),
        ("add", 1, -5, "bad_value:release_id"),
        ("view", 1, 2**63, "bad_value:release_id"),
        ("add", 0, 3, "bad_value:user_id"),
        ("steal", 1, 3, "bad_value:kind"),
    ],
)
def test_invalid_events_fail_with_the_schema_reason(
    kind: str, user_id: int, release_id: int, reason: str
) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        build_event(kind, user_id, release_id)
