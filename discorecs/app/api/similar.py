"""Releases like a given one: same artists, same labels, then shared styles among trending ones.

Cheap and prepared: one indexed lookup per artist and per label (SAI on ``releases.artists`` and
``releases.labels``, at most 50 rows each), then the trending releases of the same genres.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from discorecs.app.api.reads import Reads

ARTIST_WEIGHT = 3.0
LABEL_WEIGHT = 2.0
GENRE_WEIGHT = 0.5
TRENDING_POOL = 200
"""Trending releases of each genre considered when artists and labels give too few."""
GENERIC_CREDITS = ("Various", "Unknown Artist", "Not On Label")
"""Discogs placeholders that say nothing about likeness."""


@dataclass(frozen=True)
class Likeness:
    """A candidate's score against the target and what they share, in words."""

    release_id: int
    score: float
    reason: str


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """Shared items over all items (0 for two empty sets)."""
    left, right = set(a), set(b)
    union = left | right
    return len(left & right) / len(union) if union else 0.0


def meaningful(credits: Iterable[str] | None) -> list[str]:
    """Artist or label names minus the placeholders."""
    return [c for c in credits or () if not c.startswith(GENERIC_CREDITS)]


def likeness(target: Any, candidate: Any) -> Likeness | None:
    """Score a candidate release against the target; ``None`` when they share nothing."""
    artists = sorted(set(meaningful(target.artists)) & set(meaningful(candidate.artists)))
    labels = sorted(set(meaningful(target.labels)) & set(meaningful(candidate.labels)))
    styles = sorted(set(target.styles or ()) & set(candidate.styles or ()))
    genres = sorted(set(target.genres or ()) & set(candidate.genres or ()))
    score = (
        ARTIST_WEIGHT * len(artists)
        + LABEL_WEIGHT * len(labels)
        + jaccard(target.styles or (), candidate.styles or ())
        + GENRE_WEIGHT * jaccard(target.genres or (), candidate.genres or ())
    )
    if score <= 0:
        return None
    if artists:
        reason = f"same artist: {', '.join(artists)}"
    elif labels:
        reason = f"same label: {', '.join(labels)}"
    elif styles:
        reason = f"shares styles: {', '.join(styles)}"
    else:
        reason = f"also {', '.join(genres)}"
    return Likeness(candidate.release_id, round(score, 6), reason)


def rank_likeness(target: Any, candidates: Sequence[Any], n: int) -> list[Likeness]:
    """The ``n`` best candidates (never the target), best first, ties to the lower id."""
    scored = {}
    for candidate in candidates:
        if candidate.release_id != target.release_id:
            found = likeness(target, candidate)
            if found is not None:
                scored[candidate.release_id] = found
    return sorted(scored.values(), key=lambda x: (-x.score, x.release_id))[:n]


def similar_releases(reads: Reads, target: Any, n: int) -> list[Likeness]:
    """Releases like ``target`` (a ``releases`` row): by artist and label, else by genre."""
    candidates: dict[int, Any] = {}
    for artist in meaningful(target.artists):
        candidates.update((row.release_id, row) for row in reads.by_artist(artist))
    for label in meaningful(target.labels):
        candidates.update((row.release_id, row) for row in reads.by_label(label))
    candidates.pop(target.release_id, None)
    if len(candidates) < n:
        trending = reads.trending()
        pool = {
            r for g in target.genres or () for r in trending.by_genre.get(g, ())[:TRENDING_POOL]
        }
        candidates.update(reads.releases(pool - set(candidates) - {target.release_id}))
    return rank_likeness(target, list(candidates.values()), n)
