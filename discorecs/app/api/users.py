"""User routes: search, profile, recommendations (stored or fresh), friend, look-alikes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query

from discorecs.app.api.context import Svc
from discorecs.app.api.errors import not_found
from discorecs.app.api.explain import explain_stored
from discorecs.app.api.fresh import fresh_recommendations, read_live_user
from discorecs.app.api.models import (
    ActivityItem,
    Collection,
    CollectionEntry,
    CollectionItem,
    Friend,
    Recommendations,
    RecommendedRelease,
    ReleaseId,
    SimilarUser,
    UserId,
    UserProfile,
    UserSummary,
    release_summary,
    summary_in,
    taste_map,
    user_summary,
    utc,
)
from discorecs.app.api.reads import RECENT_ACTIVITY_MAX, SEARCH_LIMIT, Reads
from discorecs.core.genres import GENRES
from discorecs.core.tables import MAX_BIGINT

SHARED_SHOWN = 10
COLLECTION_PAGE_MAX = 500

router = APIRouter(tags=["users"])


def known_user(reads: Reads, user_id: int) -> tuple[Any, Any]:
    """The user's profile and scored rows; 404 when Cassandra has neither."""
    rows = reads.known(user_id)
    if rows is None:
        raise not_found(f"unknown user {user_id}")
    return rows


@router.get("/users", response_model=list[UserSummary])
def search_users(
    svc: Svc,
    name: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="A name or username, whole or some of its words, or a user id "
            "(case-insensitive; no part of a word: Cassandra 5.0's SAI has no LIKE on text).",
        ),
    ],
) -> list[UserSummary]:
    """Find users by name or username (whole, then by words), and by id (id match first)."""
    text = name.strip()
    named = [user_summary(row.user_id, row) for row in svc.reads.search(text)]
    if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_BIGINT:
        user_id = int(text)
        rows = svc.reads.known(user_id)
        if rows is not None:
            by_id = user_summary(user_id, rows[0])
            named = [by_id, *(other for other in named if other.user_id != user_id)]
    return named[:SEARCH_LIMIT]


@router.get("/users/{user_id}", response_model=UserProfile)
def get_user(user_id: UserId, svc: Svc) -> UserProfile:
    """Profile, collection size now, and taste, genre ranks and top genre of the last run."""
    profile, scored = known_user(svc.reads, user_id)
    summary = user_summary(user_id, profile)
    return UserProfile(
        **summary.model_dump(),
        location=profile.location if profile is not None else None,
        joined_at=utc(profile.joined_at) if profile is not None else None,
        collection_size=len(svc.reads.collection(user_id)),
        scored=scored is not None,
        scored_at=utc(scored.scored_at) if scored is not None else None,
        taste=taste_map(scored.taste) if scored is not None else None,
        genre_ranks=dict(scored.genre_ranks or {}) if scored is not None else {},
        top_genre=scored.top_genre if scored is not None else None,
        friend_id=scored.friend_id if scored is not None else None,
    )


@router.get("/users/{user_id}/recommendations", response_model=Recommendations)
def get_recommendations(
    user_id: UserId,
    svc: Svc,
    n: Annotated[int, Query(ge=1, le=50, description="List length.")] = 10,
    fresh: Annotated[
        bool, Query(description="Recompute now from the collection in Cassandra.")
    ] = False,
) -> Recommendations:
    """The stored top-n of the last hourly run, or (``fresh=true``) one recomputed now."""
    _, scored = known_user(svc.reads, user_id)
    if fresh:
        live = read_live_user(svc.session, svc.settings, user_id)
        entries = fresh_recommendations(svc.session, svc.settings, user_id, n, live=live)
        releases = svc.reads.releases(e.release_id for e in entries)
        as_of: datetime | None = datetime.now(UTC)
        size: int | None = len(live.owned)
        taste = taste_map(live.taste.tolist()) if live.has_taste else None
        top_genre = live.top_genre
    else:
        if scored is None:
            raise not_found(f"user {user_id} has not been scored yet; ask with fresh=true")
        # Releases added since the run are dropped: never recommend what the user owns.
        owned = set(svc.reads.collection(user_id))
        stored = [rec.release_id for rec in scored.recommendations or []]
        releases = svc.reads.releases([r for r in stored if r not in owned][:n])
        friend_owned = set(svc.reads.collection(scored.friend_id)) if scored.friend_id else set()
        genres = {r: set(row.genres or ()) for r, row in releases.items()}
        explained = explain_stored(scored, friend_owned, svc.reads.trending(), genres)
        entries = [e for e in explained if e.release_id not in owned][:n]
        as_of, size = utc(scored.scored_at), scored.collection_size
        taste, top_genre = taste_map(scored.taste), scored.top_genre
    items = [
        RecommendedRelease(
            rank=rank,
            release_id=e.release_id,
            score=round(e.score, 6),
            source=e.source,
            reason=e.reason,
            release=summary_in(releases, e.release_id),
        )
        for rank, e in enumerate(entries, start=1)
    ]
    return Recommendations(
        user_id=user_id,
        fresh=fresh,
        as_of=as_of,
        collection_size=size,
        taste=taste,
        top_genre=top_genre,
        items=items,
    )


def shared_genres(mine: Any, theirs: Any) -> list[str]:
    """Genres both tastes weigh, strongest shared weight first."""
    if mine is None or theirs is None:
        return []
    both = np.minimum(np.asarray(mine, dtype=np.float32), np.asarray(theirs, dtype=np.float32))
    return [GENRES[i] for i in np.argsort(-both, kind="stable") if both[i] > 0]


@router.get("/users/{user_id}/collection", response_model=Collection)
def get_collection(
    user_id: UserId,
    svc: Svc,
    n: Annotated[
        int, Query(ge=1, le=COLLECTION_PAGE_MAX, description="How many of the latest adds.")
    ] = 50,
) -> Collection:
    """The user's collection now: its size and its ``n`` latest adds, with their releases."""
    known_user(svc.reads, user_id)
    entries = svc.reads.newest_first(user_id)
    shown = entries[:n]
    releases = svc.reads.releases(r for r, _ in shown)
    return Collection(
        user_id=user_id,
        size=len(entries),
        items=[
            CollectionItem(
                release_id=r,
                added_at=utc(at),
                release=summary_in(releases, r),
            )
            for r, at in shown
        ],
    )


@router.get("/users/{user_id}/activity", response_model=list[ActivityItem])
def get_activity(
    user_id: UserId,
    svc: Svc,
    n: Annotated[
        int, Query(ge=1, le=RECENT_ACTIVITY_MAX, description="How many of the latest events.")
    ] = 20,
) -> list[ActivityItem]:
    """The user's latest views, plays and wants (30 days), newest first, with their releases."""
    known_user(svc.reads, user_id)
    rows = svc.reads.recent_activity(user_id)[:n]
    releases = svc.reads.releases(row.release_id for row in rows)
    return [
        ActivityItem(
            event_id=str(row.event_id),
            event_time=utc(row.event_time),
            kind=row.kind,
            release_id=row.release_id,
            release=summary_in(releases, row.release_id),
        )
        for row in rows
    ]


@router.get("/users/{user_id}/collection/{release_id}", response_model=CollectionEntry)
def get_collection_entry(user_id: UserId, release_id: ReleaseId, svc: Svc) -> CollectionEntry:
    """Whether the release is in the user's collection now, and since when."""
    known_user(svc.reads, user_id)
    added_at = svc.reads.added_at(user_id, release_id)
    return CollectionEntry(
        user_id=user_id, release_id=release_id, owned=added_at is not None, added_at=utc(added_at)
    )


@router.get("/users/{user_id}/friend", response_model=Friend)
def get_friend(user_id: UserId, svc: Svc) -> Friend:
    """The friend of the last run, the releases and genres you share, and the friend's pick."""
    _, scored = known_user(svc.reads, user_id)
    if scored is None or scored.friend_id is None:
        raise not_found(f"user {user_id} has no friend yet (not scored, or empty collection)")
    friend_id = scored.friend_id
    friend_scored = svc.reads.scored(friend_id)
    collections = svc.reads.collections([user_id, friend_id])
    mine = set(collections[user_id])
    shared = sorted(mine & set(collections[friend_id]))
    pick = scored.release_id
    releases = svc.reads.releases([*shared[:SHARED_SHOWN], *([pick] if pick else [])])
    return Friend(
        user_id=user_id,
        friend=user_summary(friend_id, svc.reads.user(friend_id)),
        similarity=scored.friend_similarity,
        shared_release_count=len(shared),
        shared_releases=[
            release_summary(releases[r]) for r in shared[:SHARED_SHOWN] if r in releases
        ],
        shared_genres=shared_genres(
            scored.taste, friend_scored.taste if friend_scored is not None else None
        ),
        pick=summary_in(releases, pick),
        pick_title=scored.release_title,
        pick_owned=pick in mine,
    )


@router.get("/users/{user_id}/similar", response_model=list[SimilarUser])
def get_similar_users(
    user_id: UserId,
    svc: Svc,
    n: Annotated[int, Query(ge=1, le=50, description="How many.")] = 10,
) -> list[SimilarUser]:
    """Look-alike users by Cassandra's ANN over ``users_scored.taste``.

    The user's stored taste is the query (their live one when no run scored them yet).
    """
    _, scored = known_user(svc.reads, user_id)
    if scored is not None and scored.taste is not None:
        taste = np.asarray(scored.taste, dtype=np.float32)
    else:
        taste = read_live_user(svc.session, svc.settings, user_id).taste
    if not np.any(taste):
        return []
    rows = [r for r in svc.reads.nearest(taste, n + 1) if r.user_id != user_id][:n]
    profiles = svc.reads.users(r.user_id for r in rows)
    return [
        SimilarUser(
            **user_summary(r.user_id, profiles.get(r.user_id)).model_dump(),
            similarity=round(float(np.dot(taste, np.asarray(r.taste, dtype=np.float32))), 6),
            top_genre=r.top_genre,
        )
        for r in rows
    ]
