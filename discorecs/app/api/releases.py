"""Release routes: one release, releases like it, and what is trending."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from discorecs.app.api.context import Svc
from discorecs.app.api.errors import not_found
from discorecs.app.api.models import (
    ReleaseDetail,
    ReleaseId,
    SimilarRelease,
    TrendingList,
    TrendingRelease,
    release_summary,
    summary_in,
    taste_map,
)
from discorecs.app.api.similar import similar_releases
from discorecs.core.genres import GENRES

router = APIRouter(tags=["releases"])


@router.get("/releases/{release_id}", response_model=ReleaseDetail)
def get_release(release_id: ReleaseId, svc: Svc) -> ReleaseDetail:
    """A release, its genre weights and its activity over the trending window."""
    row = svc.reads.release(release_id)
    if row is None:
        raise not_found(f"unknown release {release_id}")
    features = svc.reads.features([release_id])[release_id]
    return ReleaseDetail(
        **release_summary(row).model_dump(),
        genre_weights=taste_map(features.genres.tolist()) or {},
        trending_events=svc.reads.release_trending(release_id),
        trending_hours=svc.settings.scoring.trending_hours,
    )


@router.get("/releases/{release_id}/similar", response_model=list[SimilarRelease])
def get_similar_releases(
    release_id: ReleaseId,
    svc: Svc,
    n: Annotated[int, Query(ge=1, le=50, description="How many.")] = 10,
) -> list[SimilarRelease]:
    """Releases sharing its artists or labels, then trending ones sharing its genres and styles.

    Score: 3 per shared artist, 2 per shared label, plus the Jaccard overlap of the styles and
    half that of the genres.
    """
    target = svc.reads.release(release_id)
    if target is None:
        raise not_found(f"unknown release {release_id}")
    found = similar_releases(svc.reads, target, n)
    rows = svc.reads.releases(f.release_id for f in found)
    return [
        SimilarRelease(score=f.score, reason=f.reason, release=release_summary(rows[f.release_id]))
        for f in found
        if f.release_id in rows
    ]


@router.get("/trending", response_model=TrendingList)
def get_trending(
    svc: Svc,
    genre: Annotated[
        str | None, Query(description=f"One of the 15 genres: {', '.join(GENRES)}.")
    ] = None,
    n: Annotated[int, Query(ge=1, le=100, description="How many.")] = 20,
) -> TrendingList:
    """Activity events per release over the trending window (summed over micro-batches)."""
    if genre is not None and genre not in GENRES:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"unknown genre {genre!r}; one of: {', '.join(GENRES)}",
        )
    trending = svc.reads.trending()
    ids = (trending.by_genre[genre] if genre else trending.ranked)[:n]
    rows = svc.reads.releases(ids)
    return TrendingList(
        genre=genre,
        hours=svc.settings.scoring.trending_hours,
        items=[
            TrendingRelease(
                release_id=r,
                events=trending.events[r],
                release=summary_in(rows, r),
            )
            for r in ids
        ],
    )
