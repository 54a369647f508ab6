"""Request and response bodies of the API (they are also its OpenAPI schema), and row converters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from discorecs.app.api.events import EventKind
from discorecs.core.genres import GENRES
from discorecs.core.tables import MAX_BIGINT

UserId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="A user id (positive bigint).")]
ReleaseId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="A Discogs release id.")]
Taste = dict[str, float]
"""Weights over the 15 genres, in the fixed genre order."""


class ReleaseSummary(BaseModel):
    """What a list shows of a release."""

    release_id: int
    title: str | None
    artists: list[str]
    artist_credit: str | None
    year: int | None
    genres: list[str]
    styles: list[str]
    labels: list[str]
    formats: list[str]
    country: str | None


class ReleaseDetail(ReleaseSummary):
    """A release, its genre weights and its activity over the trending window."""

    genre_weights: Taste
    trending_events: int
    trending_hours: int


class UserSummary(BaseModel):
    """Who a user is, in a list."""

    user_id: int
    name: str | None
    username: str | None


class UserProfile(UserSummary):
    """A user's profile, collection size and taste (taste and ranks from the last hourly run)."""

    location: str | None
    joined_at: datetime | None
    collection_size: int
    scored: bool
    scored_at: datetime | None
    taste: Taste | None
    genre_ranks: dict[str, int]
    top_genre: str | None
    friend_id: int | None


class RecommendedRelease(BaseModel):
    """One entry of a top-n list and why it is there."""

    rank: int
    release_id: int
    score: float
    source: str
    reason: str
    release: ReleaseSummary | None


class Recommendations(BaseModel):
    """A user's list: stored by the hourly run, or recomputed now (``fresh``)."""

    user_id: int
    fresh: bool
    as_of: datetime | None
    collection_size: int | None
    taste: Taste | None
    top_genre: str | None
    items: list[RecommendedRelease]


class Friend(BaseModel):
    """The user's friend (nearest other user by taste) and what they share."""

    user_id: int
    friend: UserSummary
    similarity: float | None
    shared_release_count: int
    shared_releases: list[ReleaseSummary]
    shared_genres: list[str]
    pick: ReleaseSummary | None
    pick_title: str | None
    pick_owned: bool


class SimilarUser(UserSummary):
    """A look-alike user."""

    similarity: float
    top_genre: str | None


class SimilarRelease(BaseModel):
    """A release like another one, and what they have in common."""

    score: float
    reason: str
    release: ReleaseSummary


class TrendingRelease(BaseModel):
    """A release and its activity events over the window."""

    release_id: int
    events: int
    release: ReleaseSummary | None


class TrendingList(BaseModel):
    """The most active releases of the window, optionally in one genre."""

    genre: str | None
    hours: int
    items: list[TrendingRelease]


class EventIn(BaseModel):
    """An event to record: a collection ``add``/``remove``, or a ``view``/``play``/``want``."""

    model_config = ConfigDict(extra="forbid")

    kind: EventKind
    release_id: Annotated[
        StrictInt, Field(ge=1, le=MAX_BIGINT, description="A Discogs release id.")
    ]


class EventAccepted(BaseModel):
    """The event Kafka acknowledged; the stream applies it within seconds."""

    event_id: str
    topic: str
    kind: str
    event_time: str = Field(
        description="The event's time (UTC, to the millisecond): an add is applied once the "
        "collection entry's added_at is at least this."
    )


class CollectionEntry(BaseModel):
    """Whether a release is in a user's collection now, as Cassandra holds it."""

    user_id: int
    release_id: int
    owned: bool
    added_at: datetime | None = Field(description="When the add that holds it happened.")


class CollectionItem(BaseModel):
    """A release in a user's collection and when it was added."""

    release_id: int
    added_at: datetime | None
    release: ReleaseSummary | None = Field(description="None when the catalogue lacks it.")


class Collection(BaseModel):
    """A user's collection now, as Cassandra holds it: its size and its latest adds."""

    user_id: int
    size: int
    items: list[CollectionItem] = Field(description="The latest adds first (ties by id).")


class ActivityItem(BaseModel):
    """One of a user's views, plays or wants (kept 30 days)."""

    event_id: str
    event_time: datetime
    kind: str
    release_id: int
    release: ReleaseSummary | None = Field(description="None when the catalogue lacks it.")


class CheckOut(BaseModel):
    """One readiness check."""

    ok: bool
    detail: str


class Health(BaseModel):
    """Readiness: ``ready`` when every check passed."""

    status: str
    checks: dict[str, CheckOut]


class BatchPoint(BaseModel):
    """One micro-batch of the stream."""

    batch_id: int
    at_ms: int
    rows_in: int
    input_rate: float
    seconds: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    dead_letters: int


class StreamView(BaseModel):
    """The stream's lag now and its micro-batches of the dashboard's window."""

    lag: int | None
    lag_error: str | None
    batches_total: int
    batches: list[BatchPoint]


class DeadLetters(BaseModel):
    """Dead letters: total from the batch log, by reason from the dead-letter topic."""

    total: int
    by_reason: dict[str, int]
    error: str | None


class RunStepOut(BaseModel):
    """One step of an hourly run."""

    step: str
    status: str
    rows: int
    seconds: float


class RunOut(BaseModel):
    """One hourly run."""

    run_id: str
    at: datetime | None
    ok: bool
    seconds: float
    steps: list[RunStepOut]


class QualityOut(BaseModel):
    """The figures of one hourly run's online check."""

    run_id: str
    at: datetime | None
    metrics: dict[str, float]
    shares: list[str] = Field(
        description="The metrics that are shares of the adds (0 to 1); the others are counts."
    )


class Dashboard(BaseModel):
    """Everything the operations dashboard shows."""

    window_s: int
    health: Health
    stream: StreamView
    dead_letters: DeadLetters
    runs: list[RunOut]
    quality: list[QualityOut] | None


def utc(moment: datetime | None) -> datetime | None:
    """A timestamp read from Cassandra (naive, in UTC) marked as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def taste_map(vector: Sequence[float] | None) -> Taste | None:
    """A 15-float vector as ``{genre: weight}``; ``None`` stays ``None``."""
    if vector is None:
        return None
    return {genre: round(float(w), 6) for genre, w in zip(GENRES, vector, strict=True)}


def release_summary(row: Any) -> ReleaseSummary:
    """A ``releases`` row (the API's columns) as a :class:`ReleaseSummary`."""
    return ReleaseSummary(
        release_id=row.release_id,
        title=row.title,
        artists=list(row.artists or []),
        artist_credit=row.artist_credit,
        year=row.year,
        genres=sorted(row.genres or []),
        styles=sorted(row.styles or []),
        labels=list(row.labels or []),
        formats=list(row.formats or []),
        country=row.country,
    )


def summary_in(rows: Mapping[int, Any], release_id: int | None) -> ReleaseSummary | None:
    """The summary of ``rows[release_id]``; ``None`` when the catalogue read lacks the release."""
    row = None if release_id is None else rows.get(release_id)
    return None if row is None else release_summary(row)


def user_summary(user_id: int, row: Any) -> UserSummary:
    """A ``users`` row (or ``None`` for a user without a profile) as a :class:`UserSummary`."""
    return UserSummary(
        user_id=user_id,
        name=row.name if row is not None else None,
        username=row.username if row is not None else None,
    )
