"""Reasons of a stored list, derived from facts at read time."""

from types import SimpleNamespace

import numpy as np

from discorecs.app.api.explain import FRIEND, FRIEND_PICK, RANKER, TOP_GENRE, explain_stored
from discorecs.app.api.fresh import TRENDING, TRENDING_GENRE
from discorecs.app.api.reads import TRENDING_TOP, Features, rank_trending
from discorecs.core.genres import GENRES


def features(*genres: str) -> Features:
    return Features(np.array([float(g in genres) for g in GENRES], dtype=np.float32), {})


def rec(release_id: int, score: float | None = 0.5) -> SimpleNamespace:
    return SimpleNamespace(release_id=release_id, title="t", score=score)


def test_each_entry_gets_the_facts_that_hold_strongest_first() -> None:
    scored = SimpleNamespace(
        top_genre="Jazz",
        release_id=1,
        recommendations=[rec(1), rec(2), rec(3), rec(4), rec(5), rec(6, score=None)],
    )
    trending = rank_trending({3: 9, 4: 2}, {3: features("Jazz"), 4: features("Rock")})
    genres = {1: {"Jazz"}, 2: {"Rock"}, 3: {"Jazz"}, 4: {"Rock"}, 5: {"Jazz", "Funk / Soul"}}
    entries = explain_stored(scored, {2, 9}, trending, genres)
    assert [(e.release_id, e.source) for e in entries] == [
        (1, FRIEND_PICK),
        (2, FRIEND),
        (3, TRENDING_GENRE),
        (4, TRENDING),
        (5, TOP_GENRE),
        (6, RANKER),
    ]
    assert entries[0].reason == (
        "your friend's most-owned release you lack; matches your top genre, Jazz"
    )
    assert entries[2].reason == "trending in your top genre, Jazz"
    assert entries[5].score == 0.0 and "hourly recommender" in entries[5].reason


def test_no_list_no_entries() -> None:
    empty = SimpleNamespace(top_genre=None, release_id=None, recommendations=None)
    assert explain_stored(empty, set(), rank_trending({}, {}), {}) == []


def test_a_release_is_trending_only_among_the_most_active() -> None:
    scored = SimpleNamespace(top_genre="Jazz", release_id=None, recommendations=[rec(0)])
    counts = {release: 10 for release in range(1, TRENDING_TOP + 1)} | {0: 1}
    trending = rank_trending(counts, {release: features("Jazz") for release in counts})
    assert trending.events[0] == 1  # active in the window, but the least of them
    entries = explain_stored(scored, set(), trending, {0: {"Jazz"}})
    assert [e.source for e in entries] == [TOP_GENRE]
