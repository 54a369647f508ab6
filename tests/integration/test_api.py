"""The API against the real local Cassandra and Kafka, over one small scored world.

One app (one Cassandra session, one producer) serves every test of the module through FastAPI's
TestClient; the world is written straight into a fresh keyspace (``scored_world``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Consumer, Producer
from fastapi.testclient import TestClient

from discorecs.app.api.app import create_app
from discorecs.app.api.reads import Reads
from discorecs.core import events
from discorecs.core.cassandra import session_scope
from discorecs.core.genres import GENRES
from discorecs.core.settings import Settings
from discorecs.core.tables import (
    RELEASE_TRENDING_BATCHES,
    USER_ACTIVITY,
    USER_COLLECTION,
    USERS,
    trending_hours,
)
from tests.integration.scored_world import SEARCH_NAME, World, scored_world


@pytest.fixture(scope="module")
def world(local_cluster: Settings) -> Iterator[World]:
    with scored_world(local_cluster, f"api_{uuid.uuid4().hex[:10]}") as built:
        yield built


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings)) as running:
        yield running


def one_line_error(answer: object, code: int) -> str:
    assert answer.status_code == code, answer.text  # type: ignore[attr-defined]
    detail = answer.json()["detail"]  # type: ignore[attr-defined]
    assert isinstance(detail, str) and detail and "\n" not in detail
    return detail


def test_profile(client: TestClient, world: World) -> None:
    user = client.get(f"/users/{world.main_user}").json()
    assert user["name"] == SEARCH_NAME
    assert user["collection_size"] == len(world.collections[world.main_user])
    assert list(user["taste"]) == list(GENRES)
    assert user["top_genre"] == "Rock" and user["scored"]
    assert user["genre_ranks"]["Rock"] >= 0
    assert user["joined_at"].endswith("Z")
    assert one_line_error(client.get("/users/999999"), 404) == "unknown user 999999"
    unscored = client.get(f"/users/{world.unscored_user}").json()
    assert not unscored["scored"] and unscored["taste"] is None


def test_search_by_name_username_or_id(client: TestClient, world: World) -> None:
    found = client.get("/users", params={"name": SEARCH_NAME.upper()}).json()
    assert [u["user_id"] for u in found] == [world.main_user]
    by_username = client.get("/users", params={"name": f"Collector{world.cold_user}"}).json()
    assert [u["user_id"] for u in by_username] == [world.cold_user]
    by_id = client.get("/users", params={"name": str(world.cold_user)}).json()
    assert [u["user_id"] for u in by_id] == [world.cold_user]
    for words in ("ada", "LOVELACE", "Lovelace, Ada"):  # any of the words, in any order
        found = client.get("/users", params={"name": words}).json()
        assert [u["user_id"] for u in found] == [world.main_user], words
    assert client.get("/users", params={"name": "Love"}).json() == []  # no part of a word
    assert client.get("/users", params={"name": "Ada Byron"}).json() == []  # every word
    assert client.get("/users", params={"name": "²"}).json() == []  # a digit, not a number


def test_an_all_digit_text_finds_the_user_of_that_id_and_those_named_so(
    client: TestClient, world: World
) -> None:
    keyspace, named = world.settings.keyspace, 990001
    digits = str(world.cold_user)
    with session_scope(world.settings) as session:
        insert = session.prepare(USERS.insert(keyspace, ["user_id", "name", "username"]))
        session.execute(insert, (named, digits, "digits"))
        try:
            found = client.get("/users", params={"name": digits}).json()
        finally:
            session.execute(session.prepare(USERS.delete(keyspace, ["user_id"])), (named,))
    assert [u["user_id"] for u in found] == [world.cold_user, named]


def test_stored_recommendations_carry_release_details_and_reasons(
    client: TestClient, world: World
) -> None:
    recs = client.get(f"/users/{world.main_user}/recommendations").json()
    assert not recs["fresh"] and len(recs["items"]) == 10
    owned = set(world.collections[world.main_user])
    for rank, item in enumerate(recs["items"], start=1):
        assert item["rank"] == rank and item["release_id"] not in owned
        assert item["release"]["title"] == world.titles[item["release_id"]]
        assert item["release"]["artists"] and item["release"]["year"]
        assert item["release"]["genres"] and item["reason"]
    friend = client.get(f"/users/{world.main_user}/friend").json()
    friend_owned = set(world.collections[friend["friend"]["user_id"]])
    for item in recs["items"]:
        if item["release_id"] == friend["pick"]["release_id"]:
            assert item["source"] == "friend_pick"
        elif item["release_id"] in friend_owned:
            assert item["source"] == "friend" and "friend's collection" in item["reason"]
    assert len(client.get(f"/users/{world.main_user}/recommendations?n=3").json()["items"]) == 3
    detail = one_line_error(client.get(f"/users/{world.unscored_user}/recommendations"), 404)
    assert "fresh=true" in detail


def test_a_release_added_since_the_run_leaves_the_stored_list(
    client: TestClient, world: World
) -> None:
    user = world.main_user
    stored = [i["release_id"] for i in client.get(f"/users/{user}/recommendations").json()["items"]]
    with session_scope(world.settings) as session:
        insert = session.prepare(USER_COLLECTION.insert(world.settings.keyspace))
        delete = session.prepare(
            USER_COLLECTION.delete(world.settings.keyspace, ["user_id", "release_id"])
        )
        session.execute(insert, (user, stored[0], datetime.now(UTC)))
        try:
            answer = client.get(f"/users/{user}/recommendations").json()
        finally:
            session.execute(delete, (user, stored[0]))
    assert [i["release_id"] for i in answer["items"]] == stored[1:]


def test_a_collection_entry_says_whether_and_since_when(client: TestClient, world: World) -> None:
    user = world.main_user
    owned = world.collections[user][0]
    entry = client.get(f"/users/{user}/collection/{owned}").json()
    assert entry["owned"] and entry["added_at"].endswith("Z")
    assert entry["user_id"] == user and entry["release_id"] == owned
    lacked = next(r for r in world.titles if r not in world.collections[user])
    entry = client.get(f"/users/{user}/collection/{lacked}").json()
    assert not entry["owned"] and entry["added_at"] is None
    assert one_line_error(client.get(f"/users/999999/collection/{owned}"), 404)
    assert client.get(f"/users/{user}/collection/0").status_code == 422


def test_a_collection_lists_the_latest_adds_first(client: TestClient, world: World) -> None:
    user = world.main_user + 1
    owned = world.collections[user]
    newest = next(r for r in world.titles if r not in owned)
    with session_scope(world.settings) as session:
        insert = session.prepare(USER_COLLECTION.insert(world.settings.keyspace))
        delete = session.prepare(
            USER_COLLECTION.delete(world.settings.keyspace, ["user_id", "release_id"])
        )
        session.execute(insert, (user, newest, datetime.now(UTC)))
        try:
            whole = client.get(f"/users/{user}/collection").json()
            first_two = client.get(f"/users/{user}/collection", params={"n": 2}).json()
        finally:
            session.execute(delete, (user, newest))
    assert whole["user_id"] == user and whole["size"] == len(owned) + 1
    assert [i["release_id"] for i in whole["items"]] == [newest, *owned]  # then by id
    assert all(i["release"]["title"] == world.titles[i["release_id"]] for i in whole["items"])
    assert all(i["added_at"].endswith("Z") for i in whole["items"])
    assert first_two["size"] == len(owned) + 1 and first_two["items"] == whole["items"][:2]
    assert one_line_error(client.get("/users/999999/collection"), 404) == "unknown user 999999"
    assert client.get(f"/users/{user}/collection", params={"n": 0}).status_code == 422


def test_activity_lists_the_latest_events_first(client: TestClient, world: World) -> None:
    user, now = world.main_user + 3, datetime.now(UTC)
    released = sorted(world.titles)[:3]
    events_in = [
        (now - timedelta(minutes=minutes), uuid.uuid4(), kind, release)
        for minutes, kind, release in zip(
            (30, 10, 20), ("view", "want", "play"), released, strict=True
        )
    ]
    with session_scope(world.settings) as session:
        insert = session.prepare(USER_ACTIVITY.insert(world.settings.keyspace))
        for event_time, event_id, kind, release in events_in:
            session.execute(insert, (user, event_time, event_id, kind, release))
    latest = client.get(f"/users/{user}/activity").json()
    assert [(i["kind"], i["release_id"]) for i in latest] == [
        ("want", released[1]),
        ("play", released[2]),
        ("view", released[0]),
    ]
    assert latest[0]["event_id"] == str(events_in[1][1])
    assert latest[0]["release"]["title"] == world.titles[released[1]]
    assert client.get(f"/users/{user}/activity", params={"n": 1}).json() == latest[:1]
    assert client.get(f"/users/{world.cold_user}/activity").json() == []
    assert one_line_error(client.get("/users/999999/activity"), 404) == "unknown user 999999"
    assert client.get(f"/users/{user}/activity", params={"n": 101}).status_code == 422


def test_fresh_recommendations_follow_the_collection_now(client: TestClient, world: World) -> None:
    user = world.unscored_user
    before = client.get(f"/users/{user}/recommendations?fresh=true&n=10").json()
    assert before["fresh"] and before["collection_size"] == len(world.collections[user])
    ids = [item["release_id"] for item in before["items"]]
    assert len(ids) == 10 and len(set(ids)) == 10
    assert not set(ids) & set(world.collections[user])
    assert before["items"][0]["source"] == "neighbours"
    added = next(i for i in ids if world.release_genres[i] != ("Rock",))
    with session_scope(world.settings) as session:
        insert = session.prepare(USER_COLLECTION.insert(world.settings.keyspace))
        session.execute(insert, (user, added, datetime.now(UTC)))
    after = client.get(f"/users/{user}/recommendations?fresh=true&n=10").json()
    assert added not in [item["release_id"] for item in after["items"]]
    assert after["collection_size"] == before["collection_size"] + 1
    assert after["taste"] != before["taste"]


def test_a_cold_user_gets_trending_releases(client: TestClient, world: World) -> None:
    recs = client.get(f"/users/{world.cold_user}/recommendations?fresh=true&n=5").json()
    assert recs["collection_size"] == 0 and recs["taste"] is None
    expected = sorted(world.trending, key=lambda r: (-world.trending[r], r))[:5]
    assert [item["release_id"] for item in recs["items"]] == expected
    assert {item["source"] for item in recs["items"]} == {"trending"}


def test_friend_and_what_they_share(client: TestClient, world: World) -> None:
    friend = client.get(f"/users/{world.main_user}/friend").json()
    friend_id = friend["friend"]["user_id"]
    shared = set(world.collections[world.main_user]) & set(world.collections[friend_id])
    assert friend["shared_release_count"] == len(shared)
    assert {r["release_id"] for r in friend["shared_releases"]} == shared
    assert friend["similarity"] == pytest.approx(1.0, abs=1e-5)
    assert "Rock" in friend["shared_genres"]
    assert friend["pick"]["release_id"] in world.collections[friend_id]
    assert not friend["pick_owned"]
    assert one_line_error(client.get(f"/users/{world.cold_user}/friend"), 404)


def test_look_alikes_come_from_the_ann_index(client: TestClient, world: World) -> None:
    similar = client.get(f"/users/{world.main_user}/similar?n=3").json()
    assert len(similar) == 3 and world.main_user not in [u["user_id"] for u in similar]
    mine = world.tastes[world.main_user]
    exact = {u: float(mine @ t) for u, t in world.tastes.items() if u != world.main_user}
    third_best = sorted(exact.values(), reverse=True)[2]
    for u in similar:
        assert u["similarity"] == pytest.approx(exact[u["user_id"]], abs=1e-5)
        assert u["similarity"] >= third_best - 1e-5
    assert all(u["top_genre"] == "Rock" and u["name"] for u in similar)
    assert client.get(f"/users/{world.cold_user}/similar").json() == []


def test_release_and_similar_releases(client: TestClient, world: World) -> None:
    release = client.get("/releases/1000").json()
    assert release["title"] == world.titles[1000]
    assert release["genre_weights"]["Rock"] == 1.0
    assert release["trending_events"] == world.trending[1000]
    similar = client.get("/releases/1000/similar?n=4").json()
    # 1300 shares the artist and the label; 1003, 1006, 1009 the artist, styles and genre.
    assert [s["release"]["release_id"] for s in similar] == [1300, 1003, 1006, 1009]
    assert similar[0]["reason"] == "same artist: Rock Artist 0"
    assert similar[0]["score"] == pytest.approx(5.25)
    assert 1000 not in [s["release"]["release_id"] for s in similar]
    assert one_line_error(client.get("/releases/77/similar"), 404) == "unknown release 77"


def test_trending_overall_and_per_genre(client: TestClient, world: World) -> None:
    overall = client.get("/trending?n=4").json()
    expected = sorted(world.trending, key=lambda r: (-world.trending[r], r))[:4]
    assert [i["release_id"] for i in overall["items"]] == expected
    assert [i["events"] for i in overall["items"]] == [world.trending[r] for r in expected]
    jazz = client.get("/trending", params={"genre": "Jazz"}).json()
    assert jazz["items"] and all("Jazz" in i["release"]["genres"] for i in jazz["items"])
    assert "unknown genre 'Jaz'" in one_line_error(client.get("/trending?genre=Jaz"), 422)


def test_trending_reads_only_the_batches_since_its_last_read(keyspace: Settings) -> None:
    settings = keyspace.model_copy(
        update={"api": keyspace.api.model_copy(update={"trending_cache_s": 0.0})}
    )
    hour = trending_hours(datetime.now(UTC), 1)[0]
    with session_scope(settings) as session:
        insert = session.prepare(RELEASE_TRENDING_BATCHES.insert(settings.keyspace))

        def write(*rows: tuple[int, int, int]) -> None:
            for batch_id, release_id, events in rows:
                session.execute(insert, (hour, release_id, batch_id, events))

        reads = Reads(session, settings)
        write((0, 1, 2), (1, 1, 3))
        assert reads.trending().events == {1: 5}
        write((1, 2, 4), (2, 1, 1))  # the rest of batch 1, which the first read saw in part
        assert reads.trending().events == {1: 6, 2: 4}
        assert reads.release_trending(2) == 4


def read_event(settings: Settings, topic_kind: str, event_id: str) -> tuple[bytes, bytes]:
    """The key and value of one event on a topic, searched from its start."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"test-api-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.subscribe([settings.topic(topic_kind)])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            value = message.value()
            if isinstance(value, bytes) and json.loads(value)["event_id"] == event_id:
                key = message.key()
                assert isinstance(key, bytes)
                return key, value
    finally:
        consumer.close()
    raise AssertionError(f"event {event_id} not on {topic_kind}")


@pytest.mark.parametrize(("kind", "topic_kind"), [("add", "collections"), ("want", "activity")])
def test_posted_events_reach_kafka_valid_and_keyed_by_user(
    client: TestClient, world: World, kind: str, topic_kind: str
) -> None:
    answer = client.post(
        f"/users/{world.main_user}/events", json={"kind": kind, "release_id": 1200}
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["topic"] == world.settings.topic(topic_kind) and body["kind"] == kind
    key, value = read_event(world.settings, topic_kind, body["event_id"])
    assert key == str(world.main_user).encode()
    event, reason = events.validate(topic_kind, value)
    assert reason is None and isinstance(event, events.CollectionEvent | events.ActivityEvent)
    assert (event.user_id, event.release_id) == (world.main_user, 1200)
    assert body["event_time"] == event.event_time


def test_bad_events_are_refused_with_a_reason(client: TestClient, world: World) -> None:
    path = f"/users/{world.main_user}/events"
    assert "kind" in one_line_error(client.post(path, json={"kind": "x", "release_id": 1}), 422)
    zero = one_line_error(client.post(path, json={"kind": "add", "release_id": 0}), 422)
    assert zero == "body.release_id: Input should be greater than or equal to 1"
    broken = client.post(
        path, content='{"kind": "add",}', headers={"content-type": "application/json"}
    )
    assert one_line_error(broken, 422).startswith("body: not JSON at offset 15 (")
    assert one_line_error(client.post(path, json={"kind": "add", "release_id": 5}), 404) == (
        "unknown release 5"
    )
    unknown = client.post("/users/424242/events", json={"kind": "add", "release_id": 1000})
    assert one_line_error(unknown, 404) == "unknown user 424242"


def test_a_scored_user_without_a_profile_row_can_post_events_and_be_found_by_id(
    client: TestClient, world: World
) -> None:
    user = next(u for u in world.collections if u not in (world.main_user, world.unscored_user))
    keyspace = world.settings.keyspace
    with session_scope(world.settings) as session:
        profile = session.execute(
            session.prepare(USERS.select(keyspace, where=["user_id"])), (user,)
        ).one()
        session.execute(session.prepare(USERS.delete(keyspace, ["user_id"])), (user,))
        try:
            answer = client.post(f"/users/{user}/events", json={"kind": "want", "release_id": 1000})
            found = client.get("/users", params={"name": str(user)}).json()
        finally:
            session.execute(session.prepare(USERS.insert(keyspace)), tuple(profile))
    assert answer.status_code == 202, answer.text
    assert found == [{"user_id": user, "name": None, "username": None}]


def test_health(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "live"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert {name: c["ok"] for name, c in ready.json()["checks"].items()} == {
        "kafka": True,
        "cassandra": True,
        "stream": True,
    }


def test_kafka_down_is_a_503_with_a_reason(world: World) -> None:
    closed = world.settings.with_updates(
        kafka={"port": 1}, api={"kafka_timeout_s": 1.0, "health_timeout_s": 1.0}
    )
    with TestClient(create_app(closed)) as down:
        answer = down.post(
            f"/users/{world.main_user}/events", json={"kind": "add", "release_id": 1000}
        )
        assert "kafka" in one_line_error(answer, 503)
        ready = down.get("/health/ready")
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert not checks["kafka"]["ok"] and checks["cassandra"]["ok"]
        assert ready.json()["status"] == "not ready"


def test_metrics(client: TestClient, world: World) -> None:
    client.get(f"/users/{world.main_user}")
    text = client.get("/metrics").text
    bucket = 'le="+Inf",method="GET",route="/users/{user_id}",status="200"'
    assert f"discorecs_api_request_seconds_bucket{{{bucket}}}" in text
    assert f'route="/users/{world.main_user}"' not in text
    assert 'discorecs_hourly_step_seconds{step="write"} 2.2' in text
    assert "discorecs_hourly_last_run_ok 1.0" in text
    assert "discorecs_stream_lag_records" in text
    assert 'discorecs_metrics_source_up{source="stream_lag"} 1.0' in text
    assert 'discorecs_quality{metric="hit_share"} 0.12' in text


def test_dashboard_data(client: TestClient) -> None:
    data = client.get("/ops/dashboard").json()
    assert data["health"]["status"] == "ready"
    assert data["stream"]["lag"] is not None
    assert [s["step"] for s in data["runs"][0]["steps"]] == ["friends", "release_scores", "write"]
    assert data["dead_letters"]["error"] is None
    assert data["quality"][0]["metrics"]["hit_share"] == 0.12  # 3 of 25 adds
    assert data["quality"][0]["shares"] == ["hit_share", "hit_share_most_popular"]


def test_a_dead_letter_is_counted_by_reason(client: TestClient, world: World) -> None:
    producer = Producer({"bootstrap.servers": world.settings.kafka_bootstrap})
    producer.produce(
        world.settings.topic("dead_letters"),
        key=b"collections/0/0",
        value=b"{",
        headers=[("reason", b"bad_json")],
    )
    producer.flush(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        reasons = client.get("/ops/dashboard").json()["dead_letters"]["by_reason"]
        if reasons.get("bad_json") == 1:
            return
        time.sleep(0.5)
    raise AssertionError(f"dead letter not counted: {reasons}")
