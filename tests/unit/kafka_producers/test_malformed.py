"""Malformed events on purpose: each one gets exactly the dead-letter reason of its category."""

import json

import pytest

from discorecs.core import events
from kafka_producers.demo_catalog import demo_catalog
from kafka_producers.malformed import CATEGORIES, FAR_AHEAD, Malformer
from kafka_producers.synthetic import EventStream

LATEST = events.latest_time(1_796_000_000_000_000)
"""An hour after records written on 2026-11-29."""


def test_injected_bad_events_get_their_reason() -> None:
    catalog = demo_catalog(2000, seed=1)
    known = set(catalog.release_ids.tolist())
    stream = EventStream(catalog, n_users=50, seed=5, bad_ratio=0.3)
    seen: set[str] = set()
    ahead = 0
    for _ in range(10):
        chunk = stream.next_chunk(500, 0)
        for i, value in enumerate(chunk.values):
            kind = events.KINDS[chunk.topics[i]]
            values, reason = events.validate_values(kind, value)
            if values is not None:
                reason = events.check_ahead(kind, values, LATEST)
            if reason is None:
                event, _ = events.validate(kind, value)
                assert event is not None
                reason = events.check_release(event, known)
            expected = chunk.bad.get(i)
            if expected is None:
                assert reason is None, value
            else:
                assert reason is not None and events.reason_category(reason) == expected
                assert len(value) < 1_000_000
                seen.add(expected)
                ahead += FAR_AHEAD.encode() in value
    assert seen == set(CATEGORIES)
    assert ahead > 0
    assert set(CATEGORIES) == set(events.REASON_CATEGORIES)


def test_the_ratio_is_respected_and_zero_spoils_nothing() -> None:
    assert (Malformer(1, 0.0, 100).draw(1000) == -1).all()
    drawn = Malformer(1, 0.25, 100).draw(20_000)
    assert (drawn >= 0).mean() == pytest.approx(0.25, abs=0.02)
    assert set(drawn[drawn >= 0].tolist()) == set(range(len(CATEGORIES)))
    with pytest.raises(ValueError):
        Malformer(1, 1.5, 100)


def test_unknown_release_is_above_the_catalogue() -> None:
    malformer = Malformer(3, 1.0, max_release_id=500)
    values = (1, "0b6f2a8e-2a51-4c7e-9b1e-3f8f2f5f9a10", "2026-01-31T12:00:00.123Z", 7, 42, "add")
    spoiled = json.loads(
        malformer.spoil(CATEGORIES.index(events.UNKNOWN_RELEASE), "collections", values)
    )
    assert spoiled["release_id"] > 500
    event, reason = events.validate("collections", json.dumps(spoiled).encode())
    assert reason is None and event is not None
    assert events.check_release(event, set(range(1, 501))) == events.unknown_release_reason(
        spoiled["release_id"]
    )
