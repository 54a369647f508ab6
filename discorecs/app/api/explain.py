"""Why a stored recommendation is there, derived when the list is read.

The hourly run stores each list with one fused score per release (the production hybrid mixes
several sources), not where each came from. The reasons here are facts checked at read time:
the friend's pick, a release in the friend's collection, trending (among the most active of the
window, in the user's top genre or overall), a match with the top genre; otherwise the ranker
itself is the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from discorecs.app.api.fresh import TRENDING, TRENDING_GENRE, Recommendation
from discorecs.app.api.reads import Trending

FRIEND_PICK = "friend_pick"
FRIEND = "friend"
TOP_GENRE = "top_genre"
RANKER = "ranker"


def reasons_for(
    release_id: int,
    scored: Any,
    friend_owned: Set[int],
    trending: Trending,
    genres: Set[str],
) -> list[tuple[str, str]]:
    """``(source, reason)`` pairs that hold for one listed release, strongest first."""
    found: list[tuple[str, str]] = []
    if release_id == scored.release_id:
        found.append((FRIEND_PICK, "your friend's most-owned release you lack"))
    elif release_id in friend_owned:
        found.append((FRIEND, "in your friend's collection"))
    top = scored.top_genre
    in_top = top is not None and top in genres
    if in_top and trending.among_top(release_id, top):
        found.append((TRENDING_GENRE, f"trending in your top genre, {top}"))
    elif trending.among_top(release_id):
        found.append((TRENDING, "trending with collectors right now"))
    elif in_top:
        found.append((TOP_GENRE, f"matches your top genre, {top}"))
    return found or [(RANKER, "ranked for you by the hourly recommender over all collections")]


def explain_stored(
    scored: Any,
    friend_owned: Set[int],
    trending: Trending,
    genres: Mapping[int, Set[str]],
) -> list[Recommendation]:
    """The stored list of a ``users_scored`` row, each entry with its source and reasons."""
    entries = []
    for rec in scored.recommendations or []:
        found = reasons_for(
            rec.release_id, scored, friend_owned, trending, genres.get(rec.release_id, set())
        )
        entries.append(
            Recommendation(
                rec.release_id,
                float(rec.score or 0.0),
                found[0][0],
                "; ".join(reason for _, reason in found),
            )
        )
    return entries
