import json
import re
from collections import Counter

import numpy as np
import pytest

from kafka_producers import events
from kafka_producers.catalog import Catalog, load_jsonl
from kafka_producers.demo_catalog import demo_catalog
from kafka_producers.synthetic import EventStream, iso_millis, uuid4_strings
from kafka_producers.truth import TruthWriter, read_truth

SEED = 11


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return demo_catalog(20_000, seed=3)


def run(stream: EventStream, n_events: int, chunk: int = 1000) -> list[tuple[str, dict]]:
    out = []
    while len(out) < n_events:
        c = stream.next_chunk(chunk, 1_700_000_000_000, 10.0)
        out += [(events.KINDS[t], json.loads(v)) for t, v in zip(c.topics, c.values, strict=True)]
    return out


@pytest.fixture(scope="module")
def played(catalog: Catalog) -> tuple[EventStream, list[tuple[str, dict]]]:
    stream = EventStream(catalog, n_users=300, seed=SEED)
    return stream, run(stream, 100_000)


def test_profiles_come_first_then_only_known_users(played) -> None:
    stream, sent = played
    users = [e for k, e in sent[: stream.n_users] if k == "users"]
    assert [u["user_id"] for u in users] == stream.user_ids
    assert len({u["username"] for u in users}) == stream.n_users
    assert all(k != "users" for k, _ in sent[stream.n_users :])
    assert all(events.validate(k, json.dumps(e).encode())[1] is None for k, e in sent[:2000])


def test_collection_dominant_genre_matches_hidden_top_genre(catalog, played) -> None:
    stream, _ = played
    genre_matrix = catalog.genre_matrix()
    position = {int(r): i for i, r in enumerate(catalog.release_ids)}
    top = stream.tastes.top_genres()
    matches = sum(
        int(np.argmax(genre_matrix[[position[r] for r in owned]].sum(axis=0)) == top[u])
        for u in range(stream.n_users)
        if (owned := stream.owned(u))
    )
    assert matches / stream.n_users >= 0.8


def test_tastes_are_sparse_dirichlet(played) -> None:
    stream, _ = played
    weights = stream.tastes.genre_weights
    assert np.allclose(weights.sum(axis=1), 1.0)
    assert ((weights > 0).sum(axis=1) <= 3).all()


def test_popularity_has_a_long_tail(played) -> None:
    _, sent = played
    adds = Counter(e["release_id"] for k, e in sent if k == "collections" and e["action"] == "add")
    counts = np.sort(np.array(list(adds.values())))[::-1]
    top_share = counts[: max(1, len(counts) // 10)].sum() / counts.sum()
    assert top_share > 0.4
    assert counts[-1] == 1  # a tail of releases added once


def test_removes_only_remove_owned_releases(played) -> None:
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


def test_same_seed_same_stream_whatever_the_chunking(catalog) -> None:
    def values(chunks: list[int]) -> list[bytes]:
        stream = EventStream(catalog, n_users=100, seed=SEED, bad_ratio=0.05)
        out: list[bytes] = []
        i = 0
        while len(out) < 20_000:
            out += stream.next_chunk(chunks[i % len(chunks)], 0).values
            i += 1
        return out[:20_000]

    assert values([1000]) == values([7, 333, 4096, 64])
    other = EventStream(catalog, n_users=100, seed=SEED + 1).next_chunk(100, 0).values
    assert other != values([100])[:100]


def test_event_times_never_go_backwards(catalog) -> None:
    stream = EventStream(catalog, n_users=10, seed=1)
    stream.next_chunk(10, 5_000)
    later = stream.next_chunk(100, 1_000, 50.0)
    times = [json.loads(v)["event_time"] for v in later.values]
    assert times == sorted(times) and times[0] >= "1970-01-01T00:00:05.000Z"


def test_uuid_and_time_formatting() -> None:
    ids = uuid4_strings(np.random.default_rng(0), 1000)
    assert len(set(ids)) == 1000
    pattern = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
    assert all(pattern.fullmatch(i) for i in ids)
    assert iso_millis(np.array([1_700_000_000_123])) == [b"2023-11-14T22:13:20.123Z"]


def test_catalog_from_jsonl(tmp_path) -> None:
    path = tmp_path / "releases.jsonl"
    rows = [
        {"release_id": 5, "genres": ["Rock", "Pop"], "styles": ["Punk"]},
        {"release_id": 6, "genres": ["Unknown genre"], "styles": []},
        {"release_id": 7, "genres": ["Jazz"], "styles": None},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    catalog = load_jsonl(path)
    assert catalog.release_ids.tolist() == [5, 7]
    assert catalog.genres_of(0) == ["Pop", "Rock"] and catalog.styles_of(0) == ["Punk"]
    assert catalog.styles_of(1) == []


def test_truth_file_round_trip(catalog, tmp_path) -> None:
    stream = EventStream(catalog, n_users=20, seed=2, bad_ratio=0.1)
    writer = TruthWriter(tmp_path / "truth.jsonl")
    writer.write_header(stream, seed=2, bad_ratio=0.1, topics={k: k for k in events.KINDS})
    chunks = [stream.next_chunk(500, 0) for _ in range(3)]
    for chunk in chunks:
        writer.write_chunk(chunk)
    writer.close()
    truth = read_truth(tmp_path / "truth.jsonl")
    assert truth.meta["users"] == 20 and len(truth.tastes) == 20
    assert [e["value"].encode() for e in truth.events] == [v for c in chunks for v in c.values]
    assert [e["seq"] for e in truth.events] == list(range(len(truth.events)))
    assert sum(e["bad"] is not None for e in truth.events) == sum(len(c.bad) for c in chunks)
