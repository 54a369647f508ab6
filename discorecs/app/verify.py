"""Check what the pipeline wrote against the producer's ground truth: lost, extra, doubled.

Used by the integration tests and by ``discorecs loadtest`` for the end-of-run loss check.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cassandra.cluster import Session
from confluent_kafka import Consumer, TopicPartition

from discorecs.core import events
from discorecs.core.settings import Settings
from discorecs.core.tables import (
    CHANGED_USERS,
    RELEASE_TRENDING_BATCHES,
    USER_ACTIVITY,
    USER_COLLECTION,
    USERS,
    Table,
)
from kafka_producers.truth import truth_records


@dataclass
class PipelineState:
    """What the pipeline's output should hold (or holds).

    Attributes:
        collections: Owned (user_id, release_id) pairs.
        changed_users: Users staged for scoring: those with a collection change or a profile.
        users: Users with a profile.
        activity: Activity event ids.
        trending_events: Sum of the trending counts (equals the activity count when nothing is
            counted twice).
        dead_letters: (dead-letter value, reason category) -> occurrences; the value is
            the original cut to the event limit (:func:`~discorecs.core.events.dead_letter_value`).

    """

    collections: set[tuple[int, int]] = field(default_factory=set)
    changed_users: set[int] = field(default_factory=set)
    users: set[int] = field(default_factory=set)
    activity: set[str] = field(default_factory=set)
    trending_events: int = 0
    dead_letters: Counter[tuple[bytes, str]] = field(default_factory=Counter)


def expected_state(truth_path: str | Path) -> PipelineState:
    """Replay a truth file's events in send order into the state the pipeline must reach."""
    state = PipelineState()
    for record in truth_records(truth_path):
        if record["type"] != "event":
            continue
        value = record["value"].encode()
        if record["bad"]:
            state.dead_letters[(events.dead_letter_value(value), record["bad"])] += 1
            continue
        event = json.loads(value)
        if record["topic"] == "users":
            state.users.add(event["user_id"])
            state.changed_users.add(event["user_id"])
        elif record["topic"] == "activity":
            state.activity.add(event["event_id"])
            state.trending_events += 1
        else:
            pair = (event["user_id"], event["release_id"])
            if event["action"] == "add":
                state.collections.add(pair)
            else:
                state.collections.discard(pair)
            state.changed_users.add(event["user_id"])
    return state


def table_rows(session: Session, keyspace: str, table: Table, *columns: str) -> list[Any]:
    """Every row of a table, those columns only (a full scan: for tests and load-test checks)."""
    return list(session.execute(session.prepare(table.select(keyspace, columns)), timeout=120))


def cassandra_state(session: Session, keyspace: str) -> PipelineState:
    """Read the pipeline's tables back (full scans: for tests and load-test checks)."""
    state = PipelineState()

    def rows(table: Table, *columns: str) -> list[Any]:
        return table_rows(session, keyspace, table, *columns)

    state.collections = {
        (r.user_id, r.release_id) for r in rows(USER_COLLECTION, "user_id", "release_id")
    }
    state.changed_users = {r.user_id for r in rows(CHANGED_USERS, "user_id")}
    state.users = {r.user_id for r in rows(USERS, "user_id")}
    state.activity = {str(r.event_id) for r in rows(USER_ACTIVITY, "event_id")}
    state.trending_events = sum(r.events for r in rows(RELEASE_TRENDING_BATCHES, "events"))
    return state


def dead_letter_state(settings: Settings, timeout: float = 60.0) -> Counter[tuple[bytes, str]]:
    """Read the whole dead-letter topic, one entry per source record (deduplicated by key)."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"verify-{time.time_ns()}",
            "enable.auto.commit": False,
        }
    )
    topic = settings.topic("dead_letters")
    try:
        metadata = consumer.list_topics(topic, timeout=timeout).topics[topic]
        partitions = [TopicPartition(topic, p, 0) for p in metadata.partitions]
        ends = {
            p.partition: consumer.get_watermark_offsets(p, timeout=timeout)[1] for p in partitions
        }
        consumer.assign(partitions)
        by_key: dict[bytes, tuple[bytes, str]] = {}
        remaining = {p for p, end in ends.items() if end > 0}
        deadline = time.monotonic() + timeout
        while remaining and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            headers = dict(message.headers() or [])
            key, value, partition = message.key(), message.value(), message.partition()
            assert isinstance(key, bytes) and isinstance(value, bytes) and partition is not None
            reason = headers["reason"]
            assert isinstance(reason, bytes)
            by_key[key] = (value, events.reason_category(reason.decode()))
            if (message.offset() or 0) + 1 >= ends[partition]:
                remaining.discard(partition)
        if remaining:
            raise TimeoutError(f"{topic}: partitions {sorted(remaining)} not read to the end")
        return Counter(by_key.values())
    finally:
        consumer.close()


@dataclass(frozen=True)
class Discrepancy:
    """Per output: how many expected items are missing and how many are extra."""

    name: str
    lost: int
    extra: int


def compare(expected: PipelineState, actual: PipelineState) -> list[Discrepancy]:
    """Count lost and extra (double-applied) items per output; all zeros means exact."""
    result = []
    for name in ("collections", "changed_users", "users", "activity"):
        want, got = getattr(expected, name), getattr(actual, name)
        result.append(Discrepancy(name, len(want - got), len(got - want)))
    result.append(
        Discrepancy(
            "trending_events",
            max(0, expected.trending_events - actual.trending_events),
            max(0, actual.trending_events - expected.trending_events),
        )
    )
    lost = expected.dead_letters - actual.dead_letters
    extra = actual.dead_letters - expected.dead_letters
    result.append(Discrepancy("dead_letters", sum(lost.values()), sum(extra.values())))
    return result
