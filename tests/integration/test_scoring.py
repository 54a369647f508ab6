"""Hourly batch on the real local cluster: the hourly script after produce and stream, then a
trusted hour with a profile-only newcomer, then a small world scored twice, the second hour with
1% of its users changed."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent_with_args
from pyspark.sql import SparkSession

from discorecs.app.api.events import EventSender, Outgoing
from discorecs.app.verify import expected_state
from discorecs.core import events
from discorecs.core.cassandra import session_scope
from discorecs.core.events import CollectionEvent, UserEvent, wire_time
from discorecs.core.genres import GENRES
from discorecs.core.settings import Settings
from discorecs.core.tables import (
    BATCH_RUNS,
    CHANGED_USERS,
    QUALITY_RUNS,
    RANKING_MODELS,
    RELEASE_SCORES,
    RELEASES,
    USER_ACTIVITY,
    USER_COLLECTION,
    USERS,
    USERS_SCORED,
)
from spark_jobs.scoring.hourly import current_hour, run_hourly
from spark_jobs.scoring.readers import read_activity, read_owned, read_releases, read_stored
from spark_jobs.scoring.snapshot import load_snapshot
from spark_jobs.scoring.writers import parts, write_rows
from spark_jobs.stream.progress import read_metrics
from tests.support import REPO_ROOT

pytestmark = pytest.mark.integration

RunCli = Callable[..., subprocess.CompletedProcess[str]]
Produce = Callable[[Settings, Path, int], None]

N_USERS = 300
N_RELEASES = 120
PLAYER = N_USERS - 1
"""A user with an empty collection who played one release: their taste is that release's."""
NOW = datetime(2026, 1, 5, 10, 20, tzinfo=UTC)
SPARK_SUBMITS = REPO_ROOT / "deployment" / "spark_submits.sh"


def tuned(settings: Settings) -> Settings:
    """5 neighbours, a 200-user recall sample, and no staging margin: users are staged just
    before each run here, not minutes before."""
    return settings.with_updates(
        scoring={"neighbours": 5, "recall_sample": 200, "staging_margin_s": 0.0}
    )


def write_world(
    settings: Settings, rng: np.random.Generator
) -> tuple[dict[int, set[int]], set[str]]:
    """Releases, profiles, collections and one play by :data:`PLAYER`, everyone staged.

    Returns:
        Each user's releases, and the genres of the release :data:`PLAYER` played.

    """
    ks = settings.keyspace
    owned: dict[int, set[int]] = {}
    with session_scope(settings) as session:
        release = session.prepare(RELEASES.insert(ks, ["release_id", "title", "genres", "styles"]))
        releases = []
        for rid in range(1, N_RELEASES + 1):
            genres = set(rng.choice(GENRES[:6], rng.integers(1, 3), replace=False).tolist())
            releases.append((rid, f"Record {rid}", genres, {f"style{rid % 7}"}))
        execute_concurrent_with_args(session, release, releases)
        user = session.prepare(USERS.insert(ks, ["user_id", "name"]))
        execute_concurrent_with_args(session, user, [(u, f"u{u}") for u in range(N_USERS)])
        pairs = []
        for u in range(N_USERS - 5):
            picks = rng.integers(1, N_RELEASES + 1, rng.integers(1, 12))
            owned[u] = set(picks.tolist())
            pairs += [(u, int(r), NOW) for r in owned[u]]
        collection = session.prepare(USER_COLLECTION.insert(ks))
        execute_concurrent_with_args(session, collection, pairs)
        play = session.prepare(USER_ACTIVITY.insert(ks))
        session.execute(play, (PLAYER, NOW, uuid.uuid4(), "play", releases[0][0]))
        stage(session, ks, list(range(N_USERS)), NOW)
    return owned, releases[0][2]


def stage(session: Session, ks: str, users: list[int], at: datetime) -> None:
    bucket = at.replace(minute=0, second=0, microsecond=0)
    statement = session.prepare(CHANGED_USERS.insert(ks))
    execute_concurrent_with_args(session, statement, [(bucket, u) for u in users])


def send_profile(settings: Settings, user_id: int) -> None:
    """Produce one profile event, now, for ``user_id`` (a user with no collection event)."""
    moment = wire_time(datetime.now(UTC))
    profile = UserEvent(
        schema_version=events.SCHEMA_VERSION,
        event_id=str(uuid.uuid4()),
        event_time=moment,
        user_id=user_id,
        name="N. Comer",
        username="newcomer",
        email="newcomer@example.com",
        location="Leeds, UK",
        joined_at=moment,
    )
    send(settings, "users", profile)


def send_add(settings: Settings, user_id: int, release_id: int) -> None:
    """Produce one add of ``release_id`` to ``user_id``'s collection, now."""
    add = CollectionEvent(
        schema_version=events.SCHEMA_VERSION,
        event_id=str(uuid.uuid4()),
        event_time=wire_time(datetime.now(UTC)),
        user_id=user_id,
        release_id=release_id,
        action="add",
    )
    send(settings, "collections", add)


def send(settings: Settings, kind: str, event: events.Event) -> None:
    """Produce one event of ``kind``, keyed by its user."""
    sender = EventSender(settings)
    try:
        sender.send(Outgoing(kind, event.event_id, events.to_json(event)), key=event.user_id)
    finally:
        sender.close()


def scored_rows(settings: Settings) -> dict[int, Any]:
    with session_scope(settings) as session:
        return {
            r.user_id: r
            for r in session.execute(session.prepare(USERS_SCORED.select(settings.keyspace)))
        }


def test_rows_are_written_in_parts_each_once(spark_keyspace: Settings, spark: SparkSession) -> None:
    at = datetime(2026, 3, 1, 12, tzinfo=UTC).replace(tzinfo=None)
    taste = [1.0] * 15
    records = [
        (
            user,
            taste,
            "Rock",
            {"Rock": 1},
            None,
            None,
            None,
            None,
            [(70 + user, "t", 0.5)],
            user,
            at,
        )
        for user in range(1, 8)
    ]
    written: list[int] = []
    write_rows(
        spark, spark_keyspace, (records[at] for at in parts(len(records), 3)), None, written.append
    )
    write_rows(spark, spark_keyspace, [], None)
    assert written == [3, 3, 1], "each part told once written"
    rows = scored_rows(spark_keyspace)
    assert sorted(rows) == list(range(1, 8)), "seven rows in parts of 3, 3 and 1"
    assert sorted((r.collection_size, r.recommendations[0].release_id) for r in rows.values()) == [
        (user, 70 + user) for user in range(1, 8)
    ]


def test_hourly_batch_then_incremental_hour(spark_keyspace: Settings, spark: SparkSession) -> None:
    keyspace = spark_keyspace
    rng = np.random.default_rng(11)
    owned, played_genres = write_world(keyspace, rng)

    first = run_hourly(tuned(keyspace), spark=spark, now=NOW)
    assert first.counts["release_scores_new"] == N_RELEASES
    assert first.counts["taste_recomputed"] == N_USERS
    assert first.recall >= 0.99
    rows = scored_rows(keyspace)
    assert len(rows) == N_USERS
    for user, row in rows.items():
        have = owned.get(user, set())
        recs = [r.release_id for r in row.recommendations or []]
        assert not set(recs) & have
        assert len(recs) == 10
        if have:
            assert row.friend_id is not None and row.friend_id != user
            assert row.release_id is not None and row.release_id not in have
            assert row.release_title == f"Record {row.release_id}"
            assert len(row.taste) == 15
        elif user == PLAYER:
            assert row.top_genre in played_genres and row.friend_id not in (None, user)
        else:
            assert row.taste is None and row.friend_id is None
            assert row.release_id == recs[0]
    with session_scope(keyspace) as session:
        staged = session.prepare(CHANGED_USERS.select(keyspace.keyspace))
        assert not list(session.execute(staged))
        runs = session.prepare(BATCH_RUNS.select(keyspace.keyspace, ["step", "status"]))
        steps = list(session.execute(runs))
    assert {s.step for s in steps} >= {"release_scores", "taste", "friends", "write"}
    assert all(s.status == "ok" for s in steps)
    assert first.counts["ranking_model_reused"] == 0
    with session_scope(keyspace) as session:
        models = session.prepare(RANKING_MODELS.select(keyspace.keyspace, ["trained_at"]))
        assert len(list(session.execute(models))) == 1, "the learnt ranking model is stored"

    again = run_hourly(tuned(keyspace), spark=spark, now=NOW)
    assert again.counts["taste_recomputed"] == 0
    assert again.counts["release_scores_new"] == 0

    changed = [int(u) for u in rng.choice(N_USERS - 5, N_USERS // 100, replace=False)]
    later = NOW + timedelta(hours=1)
    with session_scope(keyspace) as session:
        add = session.prepare(USER_COLLECTION.insert(keyspace.keyspace))
        remove = session.prepare(
            USER_COLLECTION.delete(keyspace.keyspace, ["user_id", "release_id"])
        )
        gone = min(owned[changed[0]])
        session.execute(remove, (changed[0], gone))
        owned[changed[0]].discard(gone)
        for user in changed:
            new = {int(r) for r in rng.integers(1, N_RELEASES + 1, 4)}
            owned[user] |= new
            execute_concurrent_with_args(session, add, [(user, r, later) for r in new])
        early = N_RELEASES + 2
        session.execute(add, (changed[1], early, later))
        stage(session, keyspace.keyspace, changed, later)
        loaded = session.prepare(RELEASES.insert(keyspace.keyspace, ["release_id", "genres"]))
        session.execute(loaded, (N_RELEASES + 1, {"Jazz"}))
    before = scored_rows(keyspace)
    second = run_hourly(tuned(keyspace), spark=spark, now=later)
    assert second.counts["release_scores_new"] == 1, "the release loaded since, found by snapshot"
    with session_scope(keyspace) as session:
        weights = session.prepare(
            RELEASE_SCORES.select(keyspace.keyspace, ["genre_weights"], where=["release_id"])
        )
        assert session.execute(weights, (N_RELEASES + 1,)).one() is not None
    assert (first.counts["snapshot_used"], again.counts["snapshot_used"]) == (0, 1)
    assert second.counts["snapshot_used"] == 1
    assert [run.counts["item_models_reused"] for run in (first, again, second)] == [0, 1, 1]
    assert [run.counts["index_rebuilt"] for run in (first, again, second)] == [1, 0, 0]
    assert_snapshot_is_the_tables(spark, keyspace, second.run_id, later)
    assert second.counts["ranking_model_reused"] == 1
    assert second.counts["staged"] == len(changed)
    assert second.counts["taste_recomputed"] == len(changed)
    assert len(changed) <= second.counts["rescored"] < N_USERS
    assert second.counts["listed"] == len(changed), "only the changed users are listed again"
    after = scored_rows(keyspace)
    for user in set(range(N_USERS)) - set(changed):
        assert after[user].taste == before[user].taste
        assert after[user].recommendations == before[user].recommendations
        assert after[user].scored_at == before[user].scored_at
    for user in changed:
        listed = {r.release_id for r in after[user].recommendations}
        assert not listed & owned[user]
        assert after[user].release_id not in owned[user]
        assert after[user].collection_size == len(owned[user])

    with session_scope(keyspace) as session:
        catalogue = session.prepare(RELEASES.insert(keyspace.keyspace, ["release_id", "genres"]))
        session.execute(catalogue, (early, {"Rock"}))
    joined = run_hourly(tuned(keyspace), spark=spark, now=later)
    assert joined.counts["snapshot_used"] == 0, "an owned release joined the catalogue: read all"
    assert_snapshot_is_the_tables(spark, keyspace, joined.run_id, later)
    with session_scope(keyspace) as session:
        unfinished = ("hourly", uuid.uuid1(), "read_state", "failed", 0, 0.0, "")
        session.execute(session.prepare(BATCH_RUNS.insert(keyspace.keyspace)), unfinished)
    third = run_hourly(tuned(keyspace), spark=spark, now=later)
    assert third.counts["snapshot_used"] == 0, "the last run did not finish: read everything"
    assert_snapshot_is_the_tables(spark, keyspace, third.run_id, later)
    quiet = run_hourly(tuned(keyspace), spark=spark, now=later)
    assert (quiet.counts["snapshot_used"], quiet.counts["staged"]) == (1, 0), "nothing to re-read"
    assert_snapshot_is_the_tables(spark, keyspace, quiet.run_id, later)
    hours = tuned(keyspace).scoring.snapshot_hours
    within = run_hourly(tuned(keyspace), spark=spark, now=later + timedelta(hours=hours - 1))
    beyond = run_hourly(tuned(keyspace), spark=spark, now=later + timedelta(hours=hours + 1))
    assert within.counts["snapshot_used"] == 1
    assert beyond.counts["snapshot_used"] == 0, "a day after the last full read: read whole"


def test_reads_of_some_users_hold_just_their_pairs(
    spark_keyspace: Settings, spark: SparkSession
) -> None:
    """Few users are read by a direct join, many by a scan: either way just their pairs, and
    just their releases outside the catalogue."""
    settings = spark_keyspace
    write_world(settings, np.random.default_rng(5))
    outside = N_RELEASES + 50
    with session_scope(settings) as session:
        add = session.prepare(USER_COLLECTION.insert(settings.keyspace))
        execute_concurrent_with_args(session, add, [(0, outside, NOW), (1, outside + 1, NOW)])
        play = session.prepare(USER_ACTIVITY.insert(settings.keyspace))
        views = [
            (u, NOW + timedelta(minutes=u % 7), uuid.uuid4(), "view", 1 + u % N_RELEASES)
            for u in range(N_USERS)
        ]
        execute_concurrent_with_args(session, play, views)
    user_ids = read_stored(spark, settings, current_hour(NOW)).user_ids
    release_ids = read_releases(spark, settings, NOW).ids
    everyone = read_owned(spark, settings, user_ids, release_ids)
    assert everyone.outside_release_ids.tolist() == [outside, outside + 1]
    activity = read_activity(spark, settings, user_ids, release_ids, np.arange(len(user_ids)))
    for rows in (np.array([0, 7, 50]), np.arange(0, len(user_ids), 2)):
        some = read_owned(spark, settings, user_ids, release_ids, rows)
        assert_rows_are(some.user_items, everyone.user_items, rows)
        assert_rows_are(some.added_at, everyone.added_at, rows)
        assert some.outside_release_ids.tolist() == [outside]
        for got, want in zip(
            read_activity(spark, settings, user_ids, release_ids, rows), activity, strict=True
        ):
            assert_rows_are(got, want, rows)


def assert_rows_are(got: sp.csr_matrix, want: sp.csr_matrix, rows: np.ndarray) -> None:
    """``got`` holds ``want``'s given rows and nothing else."""
    assert got.nnz == want[rows].nnz > 0
    np.testing.assert_array_equal(got[rows].toarray(), want[rows].toarray())


def assert_snapshot_is_the_tables(
    spark: SparkSession, settings: Settings, run_id: str, now: datetime
) -> None:
    """The run's saved snapshot holds what a full read of the tables gives."""
    snapshot = load_snapshot(settings.snapshot_path)
    assert snapshot is not None and str(snapshot.run_id) == run_id
    stored = read_stored(spark, settings, current_hour(now))
    releases = read_releases(spark, settings, now)
    full = read_owned(spark, settings, stored.user_ids, releases.ids)
    kept = snapshot.stored
    np.testing.assert_array_equal(kept.user_ids, stored.user_ids)
    np.testing.assert_array_equal(snapshot.release_ids, releases.ids)
    for name in ("taste", "sizes", "friend", "friend_similarity", "scored"):
        np.testing.assert_array_equal(getattr(kept.state, name), getattr(stored.state, name))
    np.testing.assert_array_equal(kept.ranks, stored.ranks)
    np.testing.assert_allclose(kept.scored_at, stored.scored_at, rtol=0, atol=1e-6)
    assert kept.recommended.tolist() == stored.recommended.tolist()
    for name in ("user_items", "added_at"):
        got, want = getattr(snapshot.owned, name), getattr(full, name)
        np.testing.assert_array_equal(got.indptr, want.indptr)
        np.testing.assert_array_equal(got.indices, want.indices)
        np.testing.assert_array_equal(got.data, want.data)
    assert np.isin(full.outside_release_ids, snapshot.owned.outside_release_ids).all()


@pytest.mark.timeout(900)
def test_produce_stream_then_the_hourly_script(
    pipeline: Settings, tmp_path: Path, cli: RunCli, load_and_produce: Produce
) -> None:
    """produce -> spark_submits.sh (stream --once, scoring by spark-submit) -> users_scored."""
    truth = tmp_path / "truth.jsonl"
    load_and_produce(pipeline, truth, 6000)
    run = subprocess.run(
        [str(SPARK_SUBMITS)],
        env=pipeline.child_env(),
        capture_output=True,
        text=True,
        timeout=800,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "run=ok" in run.stdout
    owned: dict[int, set[int]] = defaultdict(set)
    for user, release in expected_state(truth).collections:
        owned[user].add(release)
    rows = scored_rows(pipeline)
    assert set(owned) <= set(rows)
    for user, row in rows.items():
        recommended = {r.release_id for r in row.recommendations or []}
        assert row.release_id is not None and row.release_id not in owned[user]
        assert not recommended & owned[user]
        if owned[user]:
            assert row.friend_id is not None and row.friend_id != user

    stats = cli(pipeline, "stats")
    assert stats.returncode == 0, stats.stderr[-3000:]
    figures = dict(line.split() for line in stats.stdout.splitlines())
    assert figures["owned_share"] == "0.0000"
    assert int(figures["scored_users"]) == len(rows)
    user = min(owned)
    shown = cli(pipeline, "recommend", str(user))
    assert shown.returncode == 0 and f"user {user}" in shown.stdout
    with session_scope(pipeline) as session:
        quality = session.prepare(QUALITY_RUNS.select(pipeline.keyspace, ["metric", "value"]))
        figures = {r.metric: r.value for r in session.execute(quality)}
        steps = session.prepare(BATCH_RUNS.select(pipeline.keyspace, ["step"]))
        recorded = {r.step for r in session.execute(steps)}
    assert figures["users"] == 0 and figures["adds"] == 0  # nobody was scored before this run
    status = cli(pipeline, "status")
    assert "users=0 adds=0 (nobody staged had a list yet" in status.stdout, status.stderr[-3000:]
    assert {"hybrid_fit", "hybrid_recommend", "online_check"} <= recorded

    newcomer = max(rows) + 1000
    send_profile(pipeline, newcomer)
    send_add(pipeline, user, min(owned[user]))  # owned when scored: no add for the online check
    # Its catch-up writes a class-data archive of its own and ends that JVM; scoring starts another.
    archives = tmp_path / "class-archives"
    hour = cli(pipeline, "hourly", timeout=600, DISCORECS_SPARK_CLASS_ARCHIVE_DIR=str(archives))
    assert hour.returncode == 0, hour.stdout[-3000:] + hour.stderr[-3000:]
    assert [p.suffix for p in archives.iterdir()] == [".jsa"]
    batch = [b for b in read_metrics(pipeline) if b["rows_in"]][-1]
    assert (batch["rows_in"], batch["users"], batch["changed_users"]) == (2, 1, 2)
    counts = dict(line.split() for line in hour.stdout.splitlines() if len(line.split()) == 2)
    assert counts["snapshot_used"] == "1", "a trusted hour"
    # Users staged within scoring.staging_margin_s of the last run's read stay staged for this one.
    assert 1 <= int(counts["staged"]) <= len(rows) + 1
    assert int(counts["users"]) == len(rows) + 1, "the staged profile, without a scan of users"
    joined = scored_rows(pipeline)[newcomer]
    assert not joined.collection_size and len(joined.recommendations) == 10
    with session_scope(pipeline) as session:
        profile = USERS.select(pipeline.keyspace, ["name_words"], where=["user_id"])
        words = session.execute(session.prepare(profile), (newcomer,)).one().name_words
    assert words == {"n", "comer", "newcomer"}, "the words the stream stores for a search"
    with session_scope(pipeline) as session:
        runs: dict[uuid.UUID, dict[str, float]] = defaultdict(dict)
        columns = ["run_id", "metric", "value"]
        for row in session.execute(
            session.prepare(QUALITY_RUNS.select(pipeline.keyspace, columns))
        ):
            runs[row.run_id][row.metric] = row.value
    checked = runs[max(runs, key=lambda run_id: run_id.time)]
    assert checked["users"] >= 1 and checked["adds"] == 0, "the re-add is no add"
    status = cli(pipeline, "status")
    checked_line = f"users={checked['users']:.0f} adds=0 (nothing added since"
    assert checked_line in status.stdout, status.stderr[-3000:]

    report = tmp_path / "evaluation.json"
    evaluated = cli(
        pipeline,
        "evaluate",
        "--world",
        "cassandra",
        "--seeds",
        "1",
        "--json",
        str(report),
        timeout=600,
    )
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    document = json.loads(report.read_text())
    names = {r["name"] for r in document["rankers"]}
    assert document["production"] == "hybrid" and {"hybrid", "most_popular", "ease"} <= names
