"""A small scored world for the API and web tests, written straight into a test keyspace.

Every row is written with prepared statements from ``discorecs.core.tables``: releases,
profiles, collections, trending counts, ``release_scores`` (the hourly job's weight functions),
``users_scored`` (taste, ranks, friend and top-10 by the hourly rule, exact search), one hourly
run and its online check's figures. No Spark: a test module pays a second.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import scipy.sparse as sp
from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent_with_args

from discorecs.app.api.fresh import credit_matrix
from discorecs.app.api.reads import Features, release_credits
from discorecs.app.loadtest import cleanup
from discorecs.core.cassandra import apply_schema, session_scope
from discorecs.core.genres import GENRES
from discorecs.core.names import name_words
from discorecs.core.settings import Settings
from discorecs.core.tables import (
    BATCH_RUNS,
    QUALITY_RUNS,
    RELEASE_SCORES,
    RELEASE_TRENDING_BATCHES,
    RELEASES,
    USER_COLLECTION,
    USERS,
    USERS_SCORED,
)
from discorecs.core.topics import apply_topics
from spark_jobs.scoring.quality import OnlineCheck
from spark_jobs.scoring.ranks import genre_percentiles, ranks_map
from spark_jobs.scoring.taste import has_taste, taste_vectors
from spark_jobs.scoring.weights import genre_weights, style_weights

GROUPS = (
    (("Rock",), ("Punk", "Garage Rock", "Indie Rock")),
    (("Electronic",), ("House", "Techno", "Ambient")),
    (("Jazz",), ("Hard Bop", "Modal", "Free Jazz")),
    (("Rock", "Pop"), ("Pop Rock", "Power Pop", "Britpop")),
)
RELEASES_PER_GROUP = 12
USERS_PER_GROUP = 4
FIRST_USER = 101
COLD_USER = 117
"""A profile with an empty collection."""
UNSCORED_USER = 118
"""A profile and a collection, but no hourly run scored them."""
SEARCH_NAME = "Ada Lovelace"


@dataclass(frozen=True)
class World:
    """What was written, for the tests to check answers against."""

    settings: Settings
    names: dict[int, str]
    collections: dict[int, list[int]]
    titles: dict[int, str]
    release_genres: dict[int, tuple[str, ...]]
    trending: dict[int, int]
    tastes: dict[int, np.ndarray]
    main_user: int = FIRST_USER
    cold_user: int = COLD_USER
    unscored_user: int = UNSCORED_USER

    def owners(self, release_id: int) -> list[int]:
        """Users owning a release."""
        return [u for u, owned in self.collections.items() if release_id in owned]


def _releases() -> list[dict[str, Any]]:
    """Per group, 12 releases; three artists and five labels recur within a group."""
    rows: list[dict[str, Any]] = []
    for group, (genres, styles) in enumerate(GROUPS):
        for k in range(RELEASES_PER_GROUP):
            artist = f"{genres[0]} Artist {k % 3}"
            rows.append(
                {
                    "release_id": 1000 + group * 100 + k,
                    "title": f"{genres[-1]} Record {k}",
                    "artists": [artist],
                    "artist_credit": artist,
                    "labels": [f"Label {k % 5}"],
                    "formats": ["Vinyl, LP"],
                    "genres": set(genres),
                    "styles": {styles[k % 3], styles[(k + 1) % 3]},
                    "country": "UK",
                    "year": 1970 + k,
                }
            )
    return rows


def _collections() -> dict[int, list[int]]:
    """Each group's users own overlapping halves of their group's releases."""
    owned: dict[int, list[int]] = {}
    for group in range(len(GROUPS)):
        for j in range(USERS_PER_GROUP):
            user = FIRST_USER + group * USERS_PER_GROUP + j
            base = 1000 + group * 100
            picks = {base + (j * 2 + i) % RELEASES_PER_GROUP for i in range(5)}
            picks.add(1000 + ((group + 1) % len(GROUPS)) * 100 + j)
            owned[user] = sorted(picks)
    owned[COLD_USER] = []
    owned[UNSCORED_USER] = [1000, 1001, 1100]
    return owned


def _names() -> dict[int, str]:
    names = {user: f"Collector {user}" for user in range(FIRST_USER, UNSCORED_USER + 1)}
    names[FIRST_USER] = SEARCH_NAME
    return names


def _scored_rows(
    collections: dict[int, list[int]],
    genre_of: dict[int, np.ndarray],
    credits: sp.csr_matrix,
    trending: dict[int, int],
    titles: dict[int, str],
    now: datetime,
) -> list[tuple[Any, ...]]:
    """``users_scored`` rows of every user but the unscored one, by the hourly rule.

    Taste: the unit sum of genre weights, discounted for repeated credits (rows of ``credits``
    in release id order); friend: the most similar other user by cosine (exact
    search: a handful of users); top-10: the releases of the 3 nearest users the user lacks,
    by summed similarity, then the most trending ones.
    """
    users = sorted(u for u in collections if u != UNSCORED_USER)
    pairs = [(row, r) for row, u in enumerate(users) for r in collections[u]]
    releases = sorted(genre_of)
    weights = np.stack([genre_of[r] for r in releases])
    taste = taste_vectors(
        np.array([row for row, _ in pairs], dtype=np.int64),
        np.array([releases.index(r) for _, r in pairs], dtype=np.int64),
        weights,
        len(users),
        credits,
    )
    valid = has_taste(taste)
    ranks = genre_percentiles(taste, valid)
    similarity = taste @ taste.T
    np.fill_diagonal(similarity, -1.0)
    popular = sorted(trending, key=lambda r: (-trending[r], r))
    rows: list[tuple[Any, ...]] = []
    for row, user in enumerate(users):
        owned = set(collections[user])
        order = [int(j) for j in np.argsort(-similarity[row], kind="stable") if valid[j]]
        near = order[:3] if valid[row] else []
        score: dict[int, float] = {}
        for j in near:
            for release in collections[users[j]]:
                if release not in owned:
                    score[release] = score.get(release, 0.0) + float(similarity[row, j])
        ranked = sorted(score, key=lambda r: (-score[r], r))[:10]
        ranked += [r for r in popular if r not in owned and r not in ranked][: 10 - len(ranked)]
        listed = [(r, titles[r], score.get(r, 0.0)) for r in ranked]
        friend = users[near[0]] if near else None
        pick = next((r for r in collections[friend] if r not in owned), None) if friend else None
        rows.append(
            (
                user,
                taste[row].tolist() if valid[row] else None,
                GENRES[int(np.argmax(taste[row]))] if valid[row] else None,
                ranks_map(ranks[row]),
                friend,
                float(similarity[row, near[0]]) if near else None,
                pick,
                titles.get(pick) if pick else None,
                listed,
                len(owned),
                now,
            )
        )
    return rows


def write_world(session: Session, settings: Settings) -> World:
    """Write the world into ``settings.keyspace`` (its schema must exist)."""
    ks = settings.keyspace
    now = datetime.now(UTC)
    releases = _releases()
    collections = _collections()
    names = _names()
    titles = {r["release_id"]: r["title"] for r in releases}
    release_ids = np.array(sorted(titles), dtype=np.int64)
    genre_sets = {r["release_id"]: tuple(sorted(r["genres"])) for r in releases}
    style_sets = {r["release_id"]: sorted(r["styles"]) for r in releases}
    trending = {int(r): 40 - i for i, r in enumerate(release_ids[::3].tolist())}

    def write(statement: str, rows: list[tuple[object, ...]]) -> None:
        execute_concurrent_with_args(
            session, session.prepare(statement), rows, concurrency=32, raise_on_first_error=True
        )

    columns = list(releases[0])
    write(RELEASES.insert(ks, columns), [tuple(r[c] for c in columns) for r in releases])
    write(
        USERS.insert(ks, ["user_id", "name", "username", "location", "joined_at", "name_words"]),
        [
            (
                u,
                n,
                f"collector{u}",
                "Leeds, UK",
                now - timedelta(days=u),
                name_words(n, f"collector{u}"),
            )
            for u, n in names.items()
        ],
    )
    write(
        USER_COLLECTION.insert(ks),
        [(u, r, now) for u, owned in collections.items() for r in owned],
    )
    genre_matrix = np.stack([genre_weights(genre_sets[int(r)]) for r in release_ids])
    write(
        RELEASE_SCORES.insert(ks),
        [
            (int(r), genre_matrix[i].tolist(), style_weights(style_sets[int(r)]), now)
            for i, r in enumerate(release_ids)
        ],
    )
    hour = now.replace(minute=0, second=0, microsecond=0)
    write(RELEASE_TRENDING_BATCHES.insert(ks), [(hour, r, 0, n) for r, n in trending.items()])
    genre_of = {int(r): genre_matrix[i] for i, r in enumerate(release_ids)}
    by_id = {r["release_id"]: r for r in releases}
    credits = credit_matrix(
        [
            Features(genre_matrix[i], {}, release_credits(by_id[r]["artists"], by_id[r]["labels"]))
            for i, r in enumerate(release_ids.tolist())
        ]
    )
    scored = _scored_rows(collections, genre_of, credits, trending, titles, now)
    write(USERS_SCORED.insert(ks), scored)
    run_id = uuid.uuid1()
    write(
        BATCH_RUNS.insert(ks),
        [
            ("hourly", run_id, step, "ok", 16, seconds, "")
            for step, seconds in (("release_scores", 1.5), ("friends", 0.4), ("write", 2.2))
        ],
    )
    write(
        QUALITY_RUNS.insert(ks),
        [
            ("hourly", run_id, metric, value)
            for metric, value in OnlineCheck(users=40, adds=25, hits=3, popular_hits=1)
            .figures()
            .items()
        ],
    )
    tastes = {int(row[0]): np.asarray(row[1]) for row in scored if row[1] is not None}
    return World(settings, names, collections, titles, genre_sets, trending, tastes)


@contextmanager
def scored_world(settings: Settings, name: str) -> Iterator[World]:
    """A fresh keyspace and topic set named ``name`` holding the world.

    Afterwards the keyspace, topics, stream checkpoint and metrics file are removed.
    """
    run = settings.model_copy(update={"keyspace": name, "topic_prefix": f"{name}."})
    apply_topics(run)
    try:
        with session_scope(run) as session:
            apply_schema(session, run.keyspace)
            world = write_world(session, run)
        yield world
    finally:
        cleanup(run)
