"""The loss check: the state a truth file's events must produce, and lost/extra per output."""

import json
from collections import Counter
from pathlib import Path

from discorecs.app.verify import Discrepancy, PipelineState, compare, expected_state

BAD_JSON = b'{"schema_version":1,"event_id":'
UNKNOWN = {"event_id": "e-unknown", "user_id": 2, "release_id": 999, "kind": "view"}


def event(seq: int, topic: str, value: dict | bytes, bad: str | None = None) -> str:
    text = value.decode() if isinstance(value, bytes) else json.dumps(value)
    line = {"type": "event", "seq": seq, "topic": topic, "key": "1", "bad": bad, "value": text}
    return json.dumps(line)


def write_truth(path: Path) -> Path:
    lines = [
        json.dumps({"type": "meta", "seed": 1, "users": 2, "releases": 3, "topics": {}}),
        json.dumps({"type": "taste", "user_id": 1, "genres": {"Rock": 1.0}, "atoms": {}}),
        event(0, "users", {"user_id": 1, "username": "a"}),
        event(1, "users", {"user_id": 2, "username": "b"}),
        event(2, "collections", {"user_id": 1, "release_id": 10, "action": "add"}),
        event(3, "collections", {"user_id": 1, "release_id": 11, "action": "add"}),
        event(4, "collections", {"user_id": 1, "release_id": 10, "action": "remove"}),
        event(5, "collections", {"user_id": 2, "release_id": 10, "action": "add"}),
        event(6, "activity", {"event_id": "e1", "user_id": 2, "release_id": 10, "kind": "view"}),
        event(7, "activity", {"event_id": "e2", "user_id": 1, "release_id": 11, "kind": "play"}),
        event(8, "collections", BAD_JSON, bad="bad_json"),
        event(9, "activity", UNKNOWN, bad="unknown_release"),
        event(10, "collections", BAD_JSON, bad="bad_json"),
        event(11, "collections", {"user_id": 2, "release_id": 10, "action": "remove"}),
        event(12, "collections", {"user_id": 2, "release_id": 12, "action": "add"}),
        event(13, "users", {"user_id": 3, "username": "c"}),
        event(14, "users", BAD_JSON, bad="bad_json"),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_expected_state_replays_the_events_in_send_order(tmp_path: Path) -> None:
    state = expected_state(write_truth(tmp_path / "truth.jsonl"))
    assert state.users == {1, 2, 3}
    assert state.collections == {(1, 11), (2, 12)}
    assert state.changed_users == {1, 2, 3}, "user 3 sent only a profile: staged too"
    assert state.activity == {"e1", "e2"}
    assert state.trending_events == 2
    assert state.dead_letters == Counter(
        {(BAD_JSON, "bad_json"): 3, (json.dumps(UNKNOWN).encode(), "unknown_release"): 1}
    )


def test_identical_states_have_no_discrepancy(tmp_path: Path) -> None:
    state = expected_state(write_truth(tmp_path / "truth.jsonl"))
    assert compare(state, state) == [
        Discrepancy(name, 0, 0)
        for name in (
            "collections",
            "changed_users",
            "users",
            "activity",
            "trending_events",
            "dead_letters",
        )
    ]


def test_compare_counts_lost_and_extra_per_output() -> None:
    expected = PipelineState(
        collections={(1, 11), (2, 12)},
        changed_users={1, 2},
        users={1, 2},
        activity={"e1", "e2"},
        trending_events=2,
        dead_letters=Counter({(b"x", "bad_json"): 2, (b"y", "unknown_release"): 1}),
    )
    actual = PipelineState(
        collections={(1, 11), (2, 10)},
        changed_users={1, 2},
        users={1},
        activity={"e1", "e2", "e3"},
        trending_events=3,
        dead_letters=Counter(
            {(b"x", "bad_json"): 1, (b"y", "unknown_release"): 1, (b"z", "oversize"): 2}
        ),
    )
    assert compare(expected, actual) == [
        Discrepancy("collections", lost=1, extra=1),
        Discrepancy("changed_users", lost=0, extra=0),
        Discrepancy("users", lost=1, extra=0),
        Discrepancy("activity", lost=0, extra=1),
        Discrepancy("trending_events", lost=0, extra=1),
        Discrepancy("dead_letters", lost=1, extra=2),
    ]
    reverse = {d.name: (d.lost, d.extra) for d in compare(actual, expected)}
    assert reverse["trending_events"] == (1, 0)
    assert reverse["dead_letters"] == (2, 1)
