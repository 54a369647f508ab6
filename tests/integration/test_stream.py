"""Kafka -> Structured Streaming -> Cassandra, exact against the producer's truth."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import KafkaException, Producer

from discorecs.app.loadtest import StreamProcess
from discorecs.app.verify import (
    cassandra_state,
    compare,
    dead_letter_state,
    expected_state,
    table_rows,
)
from discorecs.core import events
from discorecs.core.cassandra import session_scope
from discorecs.core.settings import Settings
from discorecs.core.tables import CHANGED_USERS, USER_COLLECTION, USERS
from discorecs.core.topics import apply_topics, delete_topics
from kafka_producers.truth import read_truth
from spark_jobs.stream.checkpoint_source import topic_ids
from spark_jobs.stream.progress import read_metrics

AHEAD_USER = 99_999_999
FAR_AHEAD_USER = 99_999_998
RunCli = Callable[..., subprocess.CompletedProcess[str]]
Produce = Callable[[Settings, Path, int], None]


def assert_exact(settings: Settings, truth: Path, null_values: int = 0) -> None:
    expected = expected_state(truth)
    expected.dead_letters[(b"", "bad_json")] += null_values
    with session_scope(settings) as session:
        actual = cassandra_state(session, settings.keyspace)
    actual.dead_letters = dead_letter_state(settings)
    problems = [d for d in compare(expected, actual) if d.lost or d.extra]
    assert not problems, problems
    assert expected.collections and expected.dead_letters and expected.changed_users


def produce_then_catch_up(
    pipeline: Settings,
    tmp_path: Path,
    cli: RunCli,
    load_and_produce: Produce,
    count: int,
    extra: Sequence[tuple[str, bytes, bytes | None]] = (),
    **env: str,
) -> Path:
    """Produce ``count`` events with a truth file, then the ``(kind, key, value)`` records of
    ``extra`` outside it; run ``discorecs stream --once``; return the truth."""
    truth = tmp_path / "truth.jsonl"
    load_and_produce(pipeline, truth, count)
    producer = Producer({"bootstrap.servers": pipeline.kafka_bootstrap})
    for kind, key, value in extra:
        producer.produce(pipeline.topic(kind), key=key, value=value)
    assert producer.flush(30) == 0
    run = cli(pipeline, "stream", "--once", timeout=600, **env)
    assert run.returncode == 0, run.stderr[-3000:]
    return truth


@pytest.mark.timeout(900)
def test_stream_once_matches_truth_exactly(
    pipeline: Settings, tmp_path: Path, cli: RunCli, load_and_produce: Produce
) -> None:
    no_value = ("collections", b"1", None)  # a dead letter
    truth = produce_then_catch_up(pipeline, tmp_path, cli, load_and_produce, 6000, [no_value])
    assert_exact(pipeline, truth, null_values=1)
    assert sum(batch["rows_in"] for batch in read_metrics(pipeline)) == 6001

    assert list((pipeline.cluster_path / "class-archives").glob("discorecs-stream-*.jsa"))

    rerun = cli(pipeline, "stream", "--once", timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "class_archive mode=map" in rerun.stderr
    assert_exact(pipeline, truth, null_values=1)


@pytest.mark.timeout(900)
def test_kill_9_mid_run_then_restart_loses_and_doubles_nothing(
    pipeline: Settings, tmp_path: Path, cli: RunCli, load_and_produce: Produce
) -> None:
    truth = tmp_path / "truth.jsonl"
    load_and_produce(pipeline, truth, 8000)
    job = StreamProcess(
        pipeline.with_updates(streaming={"max_offsets": 1000}), tmp_path / "stream.log"
    )
    job.start()
    try:
        deadline = time.monotonic() + 300
        while len(read_metrics(pipeline)) < 2:
            assert time.monotonic() < deadline, "the stream wrote no batch in time"
            assert job.process is not None
            assert job.process.poll() is None, (tmp_path / "stream.log").read_text()[-3000:]
            time.sleep(0.2)
    finally:
        job.kill()
    written_before_kill = sum(batch["rows_in"] for batch in read_metrics(pipeline))
    assert 0 < written_before_kill < 8000

    restart = cli(pipeline, "stream", "--once", timeout=600)
    assert restart.returncode == 0, restart.stderr[-3000:]
    assert_exact(pipeline, truth)


def test_one_stream_per_checkpoint(pipeline: Settings, tmp_path: Path, cli: RunCli) -> None:
    """While a stream runs, a catch-up has nothing to do and a second stream is refused."""
    job = StreamProcess(pipeline, tmp_path / "stream.log")
    job.start()
    try:
        job.wait_started()
        catch_up = cli(pipeline, "stream", "--once", timeout=120)
        assert catch_up.returncode == 0 and "catch_up_skipped" in catch_up.stderr
        second = cli(pipeline, "stream", timeout=120)
        assert second.returncode == 1 and "another discorecs stream owns" in second.stderr
    finally:
        job.stop()


def test_a_checkpoint_never_resumes_on_topics_made_anew(pipeline: Settings, cli: RunCli) -> None:
    first = cli(pipeline, "stream", "--once", timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    recorded = topic_ids(pipeline)
    delete_topics(pipeline)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        apply_topics(pipeline)
        with contextlib.suppress(KafkaException):
            if set(topic_ids(pipeline).values()).isdisjoint(recorded.values()):
                break
        time.sleep(1)
    again = cli(pipeline, "stream", "--once", timeout=300)
    assert again.returncode == 1
    assert (
        again.stderr.strip()
        .splitlines()[-1]
        .startswith(
            f"Error: the checkpoint {pipeline.checkpoint_path} was written from other Kafka topics"
        )
    )


def _utc(text: str) -> datetime:
    """An event's ISO time as the naive UTC datetime cassandra-driver returns."""
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)


def _profile(user_id: int, at: str) -> tuple[str, bytes, bytes]:
    """A ``users`` record for ``user_id`` whose event and join times are both ``at``."""
    profile = events.UserEvent(
        events.SCHEMA_VERSION,
        str(uuid.uuid4()),
        at,
        user_id,
        "Ahead",
        "ahead",
        "ahead@example.org",
        "Nowhere",
        at,
    )
    return "users", b"%d" % user_id, events.to_json(profile)


@pytest.mark.timeout(900)
def test_times_are_written_in_utc_whatever_the_machine_time_zone(
    pipeline: Settings, tmp_path: Path, cli: RunCli, load_and_produce: Produce
) -> None:
    """pyspark hands Python naive local datetimes; Cassandra must still get each event's instant.

    A profile stamped ahead within :data:`events.MAX_AHEAD` (a producer's fast clock) is staged
    in the current hour, where the next hourly run looks, not in its own; one stamped years ahead
    is refused.
    """
    soon = events.wire_time(datetime.now(UTC) + events.MAX_AHEAD - timedelta(minutes=1))
    profiles_ahead = [
        _profile(AHEAD_USER, soon),
        _profile(FAR_AHEAD_USER, "2199-01-01T00:00:00.000Z"),
    ]
    truth = produce_then_catch_up(
        pipeline, tmp_path, cli, load_and_produce, 1500, profiles_ahead, TZ="Asia/Kolkata"
    )
    joined = {AHEAD_USER: _utc(soon)}
    adds: set[tuple[int, int, datetime]] = set()
    hours: set[datetime] = set()
    for record in read_truth(truth).events:
        if record["bad"] or record["topic"] == "activity":
            continue
        event = json.loads(record["value"])
        at = _utc(event["event_time"])
        hours.add(at.replace(minute=0, second=0, microsecond=0))
        if record["topic"] == "users":
            joined[event["user_id"]] = _utc(event["joined_at"])
        elif event["action"] == "add":
            adds.add((event["user_id"], event["release_id"], at))
    with session_scope(pipeline) as session:
        keyspace = pipeline.keyspace
        profiles = table_rows(session, keyspace, USERS, "user_id", "joined_at")
        owned = table_rows(session, keyspace, USER_COLLECTION, "user_id", "release_id", "added_at")
        staged = table_rows(session, keyspace, CHANGED_USERS, "bucket", "user_id")
    users = {r.user_id: r.joined_at for r in profiles}
    buckets = {r.bucket for r in staged if r.user_id != AHEAD_USER}
    assert users == joined
    assert owned and {(r.user_id, r.release_id, r.added_at) for r in owned} <= adds
    assert buckets and buckets <= hours
    (ahead_bucket,) = [r.bucket for r in staged if r.user_id == AHEAD_USER]
    assert ahead_bucket <= datetime.now(UTC).replace(tzinfo=None)
