"""The synthetic event stream: profiles first, tastes visible in collections, reproducible."""

import json
import re
from collections import Counter

import numpy as np
import pytest

from discorecs.core import events
from discorecs.core.catalog import ReleaseCatalog
from kafka_producers.demo_catalog import demo_catalog
from kafka_producers.synthetic import (
    ACTIONS,
    Chunk,
    EventStream,
    Simulation,
    iso_millis,
    uuid4_array,
)

SEED = 11


@pytest.fixture(scope="module")
def catalog() -> ReleaseCatalog:
    return demo_catalog(20_000, seed=3)


Played = tuple[EventStream, list[tuple[str, dict]]]


def run(stream: EventStream, n_events: int, chunk: int = 1000) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    while len(out) < n_events:
        c = stream.next_chunk(chunk, 1_700_000_000_000, 0.01)
        out += [(events.KINDS[t], json.loads(v)) for t, v in zip(c.topics, c.values, strict=True)]
    return out


@pytest.fixture(scope="module")
def played(catalog: ReleaseCatalog) -> Played:
    stream = EventStream(catalog, n_users=300, seed=SEED)
    return stream, run(stream, 40_000)


def genre_shares(catalog: ReleaseCatalog) -> np.ndarray:
    """``(releases, 15)``: 1/k for each of a release's k genres."""
    counts = catalog.genres.counts()
    rows = np.repeat(np.arange(len(catalog)), counts)
    shares = np.zeros((len(catalog), 15))
    shares[rows, catalog.genres.idx] = 1.0 / counts[rows]
    return shares


def test_profiles_come_first_then_only_known_users(played: Played) -> None:
    stream, sent = played
    users = [e for k, e in sent[: stream.n_users] if k == "users"]
    assert [u["user_id"] for u in users] == stream.user_ids
    assert len({u["username"] for u in users}) == stream.n_users
    assert all(k != "users" for k, _ in sent[stream.n_users :])
    assert all(events.validate(k, json.dumps(e).encode())[1] is None for k, e in sent[:2000])


def test_collection_dominant_genre_matches_hidden_top_genre(
    catalog: ReleaseCatalog, played: Played
) -> None:
    stream, _ = played
    shares = genre_shares(catalog)
    position = {int(r): i for i, r in enumerate(catalog.release_ids)}
    top = np.argmax(stream.tastes.genre_weights, axis=1)
    matches = sum(
        int(np.argmax(shares[[position[r] for r in owned]].sum(axis=0)) == top[u])
        for u in range(stream.n_users)
        if (owned := stream.owned(u))
    )
    assert matches / stream.n_users >= 0.8


def test_popularity_has_a_long_tail(played: Played) -> None:
    _, sent = played
    adds = Counter(e["release_id"] for k, e in sent if k == "collections" and e["action"] == "add")
    counts = np.sort(np.array(list(adds.values())))[::-1]
    top_share = counts[: max(1, len(counts) // 10)].sum() / counts.sum()
    assert top_share > 0.4
    assert counts[-1] == 1  # a tail of releases added once


def test_removes_only_remove_owned_releases(played: Played) -> None:
    stream, sent = played
    owned: dict[int, set[int]] = {}
    removes = 0
    for kind, e in sent:
        if kind != "collections":
            continue
        mine = owned.setdefault(e["user_id"], set())
        if e["action"] == "add":
            assert e["release_id"] not in mine
            mine.add(e["release_id"])
        else:
            assert e["release_id"] in mine
            mine.remove(e["release_id"])
            removes += 1
    assert removes > 100
    for row, user_id in enumerate(stream.user_ids):
        assert set(stream.owned(row)) == owned.get(user_id, set())


def test_same_seed_same_stream_whatever_the_chunking(catalog: ReleaseCatalog) -> None:
    def values(chunks: list[int]) -> list[bytes]:
        stream = EventStream(catalog, n_users=100, seed=SEED, bad_ratio=0.05)
        out: list[bytes] = []
        i = 0
        while len(out) < 8000:
            out += stream.next_chunk(chunks[i % len(chunks)], 0).values
            i += 1
        return out[:8000]

    assert values([1000]) == values([7, 333, 4096, 64])
    other = EventStream(catalog, n_users=100, seed=SEED + 1).next_chunk(100, 0).values
    assert other != values([100])[:100]


def test_event_times_never_go_backwards(catalog: ReleaseCatalog) -> None:
    stream = EventStream(catalog, n_users=10, seed=1)
    stream.next_chunk(10, 5_000)
    later = stream.next_chunk(100, 1_000, 0.5)
    times = [json.loads(v)["event_time"] for v in later.values]
    assert times == sorted(times) and times[0] >= "1970-01-01T00:00:05.000Z"


def test_uuid_and_time_formatting() -> None:
    ids = uuid4_array(np.random.default_rng(0), 1000).tolist()
    assert len(set(ids)) == 1000
    pattern = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
    assert all(pattern.fullmatch(i) for i in ids)
    assert iso_millis(np.array([1_700_000_000_123])).tolist() == [b"2023-11-14T22:13:20.123Z"]


def test_a_stream_needs_a_user(catalog: ReleaseCatalog) -> None:
    with pytest.raises(ValueError):
        EventStream(catalog, n_users=0, seed=1)


def test_simulation_keeps_the_last_collection_action_of_each_pair() -> None:
    add, remove, view = (ACTIONS.index(a) for a in ("add", "remove", "view"))
    simulation = Simulation(
        users=np.array([0, 0, 1, 0, 1, 0]),
        actions=np.array([add, add, add, remove, view, add]),
        release_ids=np.array([5, 6, 5, 5, 6, 5]),
        times_ms=np.arange(6) * 10,
    )
    users, releases, times = simulation.collections()
    assert list(zip(users.tolist(), releases.tolist(), times.tolist(), strict=True)) == [
        (0, 5, 50),
        (0, 6, 10),
        (1, 5, 20),
    ]
    users, releases, times = simulation.activity()
    assert (users.tolist(), releases.tolist(), times.tolist()) == ([1], [6], [40])


def test_simulate_ends_with_what_each_user_owns(catalog: ReleaseCatalog) -> None:
    stream = EventStream(catalog, n_users=50, seed=4)
    simulation = stream.simulate(20_000, start_ms=0, span_ms=1000.0)
    assert len(simulation.users) == 20_000
    users, releases, _ = simulation.collections()
    owned = {(u, r) for u, r in zip(users.tolist(), releases.tolist(), strict=True)}
    assert owned == {(u, r) for u in range(stream.n_users) for r in stream.owned(u)}


def test_a_chunk_head_keeps_the_first_messages_and_their_reasons() -> None:
    chunk = Chunk([0, 1, 2], [b"1", b"2", b"3"], [b"a", b"b", b"c"], {0: "bad_json", 2: "oversize"})
    head = chunk.head(2)
    assert (head.topics, head.keys, head.values, head.bad) == (
        [0, 1],
        [b"1", b"2"],
        [b"a", b"b"],
        {0: "bad_json"},
    )
    assert chunk.head(3) is chunk
