"""The ground-truth file: a meta line, one taste per user, then every event in send order."""

import json
from pathlib import Path

from discorecs.core import events
from kafka_producers.demo_catalog import demo_catalog
from kafka_producers.synthetic import EventStream
from kafka_producers.truth import TruthWriter, read_truth, truth_records


def test_truth_file_round_trip(tmp_path: Path) -> None:
    stream = EventStream(
        demo_catalog(2000, seed=3), n_users=20, seed=2, bad_ratio=0.1, first_user_id=101
    )
    writer = TruthWriter(tmp_path / "truth.jsonl")
    writer.write_header(stream, seed=2, bad_ratio=0.1, topics={k: f"p.{k}" for k in events.KINDS})
    chunks = [stream.next_chunk(500, 0) for _ in range(3)]
    for chunk in chunks:
        writer.write_chunk(chunk)
    writer.close()
    truth = read_truth(tmp_path / "truth.jsonl")
    assert truth.meta["users"] == 20 and truth.meta["seed"] == 2
    assert truth.meta["topics"]["users"] == "p.users"
    assert truth.meta["first_user_id"] == 101
    assert sorted(truth.tastes) == stream.user_ids == list(range(101, 121))
    assert {json.loads(e["value"])["user_id"] for e in truth.events if not e["bad"]} <= set(
        stream.user_ids
    )
    assert [e["value"].encode() for e in truth.events] == [v for c in chunks for v in c.values]
    assert [e["key"].encode() for e in truth.events] == [k for c in chunks for k in c.keys]
    assert [e["topic"] for e in truth.events] == [events.KINDS[t] for c in chunks for t in c.topics]
    assert [e["seq"] for e in truth.events] == list(range(len(truth.events)))
    streamed = list(truth_records(tmp_path / "truth.jsonl"))
    assert streamed[0] == truth.meta
    assert [r for r in streamed if r["type"] == "event"] == truth.events
    bad = [(e["seq"], e["bad"]) for e in truth.events if e["bad"] is not None]
    offsets = [0, len(chunks[0]), len(chunks[0]) + len(chunks[1])]
    assert bad == sorted(
        (offset + i, category)
        for offset, chunk in zip(offsets, chunks, strict=True)
        for i, category in chunk.bad.items()
    )
