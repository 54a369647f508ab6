"""Every Cassandra read of the API, prepared once per session from the table declarations.

One :class:`Reads` per (session, keyspace), shared by the routes and
:func:`discorecs.app.api.fresh.fresh_recommendations`. Collections and profiles are read on every
call; only the trending counts are kept for ``api.trending_cache_s`` seconds. Those are summed
incrementally (:class:`HourCounts`): a refresh reads only the micro-batches written since the last
one, so its cost follows the stream's recent rate, not the window's whole history.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from cassandra import InvalidRequest
from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent_with_args

from discorecs.app.status import HourlyRun, group_runs, runs_query
from discorecs.core.cassandra import rows_by_ids
from discorecs.core.genres import GENRES
from discorecs.core.names import name_words
from discorecs.core.settings import Settings
from discorecs.core.tables import (
    HOURLY_PIPELINE,
    QUALITY_RUNS,
    RELEASE_TRENDING_BATCHES,
    RELEASES,
    USER_ACTIVITY,
    USER_COLLECTION,
    USERS,
    USERS_SCORED,
    trending_hours,
)
from spark_jobs.scoring.weights import genre_weights, style_weights

CONCURRENCY = 16
SEARCH_LIMIT = 20
"""Users returned by a name search."""
SEARCH_WORDS = 4
"""Words of a search's text matched at most (the longest); each count has its statement."""
BY_CREDIT_LIMIT = 50
"""Releases read per artist or label when looking for similar releases."""
RECENT_ACTIVITY_MAX = 100
"""A user's latest activity events read at most (``user_activity`` is newest first)."""
QUALITY_ROWS = 5000
"""``quality_runs`` rows read for the dashboard and ``/metrics``."""
RELEASE_COLUMNS = (
    "release_id",
    "title",
    "artists",
    "artist_credit",
    "labels",
    "formats",
    "genres",
    "styles",
    "country",
    "year",
)


@dataclass(frozen=True)
class Features:
    """What the ranking knows of one release.

    Attributes:
        genres: Genre weights (15, :data:`GENRES` order).
        styles: Style weights.
        credits: Its artists (``"artist:Name"``) and labels (``"label:Name"``).

    """

    genres: np.ndarray
    styles: dict[str, float]
    credits: frozenset[str] = frozenset()


def latest_adds_first(
    entries: Iterable[tuple[int, datetime | None]],
) -> list[tuple[int, datetime | None]]:
    """``(release_id, added_at)`` pairs, the latest add first, then by release id (none last)."""
    by_id = sorted(entries, key=lambda entry: entry[0])
    return sorted(by_id, key=lambda entry: entry[1] or datetime.min, reverse=True)


def release_credits(artists: Iterable[str] | None, labels: Iterable[str] | None) -> frozenset[str]:
    """A release's artists and labels as one set (``"artist:Name"``, ``"label:Name"``)."""
    return frozenset(
        [f"artist:{a}" for a in artists or ()] + [f"label:{label}" for label in labels or ()]
    )


TRENDING_TOP = 200
"""A release is called trending when it is among this many most active of the window (overall
or in a genre): one view in 24 hours is activity, not a trend."""


@dataclass(frozen=True)
class Trending:
    """Activity events per release over the trending window, summed over micro-batches.

    Attributes:
        events: ``{release_id: events}``.
        ranked: Release ids, most events first (ties: lower id first).
        by_genre: The same order restricted to releases of each genre.
        read_at: When the counts were read (``time.monotonic()``).

    """

    events: dict[int, int]
    ranked: tuple[int, ...]
    by_genre: dict[str, tuple[int, ...]]
    read_at: float

    def among_top(self, release_id: int, genre: str | None = None) -> bool:
        """Whether the release is one of the :data:`TRENDING_TOP` most active (in ``genre``)."""
        ranked = self.ranked if genre is None else self.by_genre.get(genre, ())
        return release_id in ranked[:TRENDING_TOP]


class HourCounts:
    """One hour partition's activity events per release, summed micro-batch by micro-batch.

    The stream writes a batch's rows before it starts the next batch (one batch at a time, and a
    replayed batch rewrites the same rows), so once rows of a later batch appear, every earlier
    batch is complete. Only the newest batch seen may still be partly written: its rows are kept
    apart and read again by the next refresh (:attr:`newest` is where that read starts).

    Attributes:
        newest: The newest batch id seen (0 before any read).

    """

    def __init__(self) -> None:
        self.newest = 0
        self._settled: dict[int, int] = {}
        self._newest_rows: dict[int, int] = {}

    def update(self, rows: Iterable[tuple[int, int, int]]) -> None:
        """Fold in the ``(batch_id, release_id, events)`` rows of batches ``>= newest``."""
        by_batch: dict[int, dict[int, int]] = {}
        for batch_id, release_id, events in rows:
            by_batch.setdefault(batch_id, {})[release_id] = events or 0
        if not by_batch:
            return
        newest = max(by_batch)
        for batch_id, counts in by_batch.items():
            if batch_id != newest:
                for release_id, events in counts.items():
                    self._settled[release_id] = self._settled.get(release_id, 0) + events
        self.newest, self._newest_rows = newest, by_batch[newest]

    def add_to(self, totals: dict[int, int]) -> None:
        """Add this hour's events per release into ``totals``."""
        for counts in (self._settled, self._newest_rows):
            for release_id, events in counts.items():
                totals[release_id] = totals.get(release_id, 0) + events


def rank_trending(events: dict[int, int], features: dict[int, Features]) -> Trending:
    """Order trending releases by events, overall and within each genre."""
    ranked = tuple(sorted(events, key=lambda release: (-events[release], release)))
    by_genre = {
        genre: tuple(r for r in ranked if r in features and features[r].genres[i] > 0)
        for i, genre in enumerate(GENRES)
    }
    return Trending(events, ranked, by_genre, time.monotonic())


class Reads:
    """Prepared statements and the reads built on them, for one session and keyspace.

    Args:
        session: The process's Cassandra session.
        settings: Keyspace, trending window and cache time.

    """

    _instances: weakref.WeakKeyDictionary[Session, dict[str, Reads]] = weakref.WeakKeyDictionary()
    _instances_lock = threading.Lock()

    def __init__(self, session: Session, settings: Settings) -> None:
        self._session = weakref.ref(session)
        self.settings = settings
        ks, prepare = settings.keyspace, session.prepare
        self._user = prepare(USERS.select(ks, where=["user_id"]))
        self._users = prepare(USERS.select(ks, where=["user_id IN"]))
        self._by_name = prepare(USERS.select(ks, where=["name"], limit=SEARCH_LIMIT))
        self._by_username = prepare(USERS.select(ks, where=["username"], limit=SEARCH_LIMIT))
        self._by_words = [
            prepare(USERS.select(ks, where=["name_words CONTAINS"] * n, limit=SEARCH_LIMIT))
            for n in range(1, SEARCH_WORDS + 1)
        ]
        self._probe = prepare(USERS.select(ks, ["user_id"], limit=1))
        self._scored = prepare(USERS_SCORED.select(ks, where=["user_id"]))
        self._nearest = prepare(USERS_SCORED.ann(ks, "taste", ["user_id", "taste", "top_genre"]))
        self._collection = prepare(USER_COLLECTION.select(ks, ["release_id"], where=["user_id"]))
        self._added = prepare(
            USER_COLLECTION.select(ks, ["release_id", "added_at"], where=["user_id"])
        )
        self._entry = prepare(
            USER_COLLECTION.select(ks, ["added_at"], where=["user_id", "release_id"])
        )
        self._activity = prepare(USER_ACTIVITY.select(ks, ["release_id"], where=["user_id"]))
        self._recent_activity = prepare(
            USER_ACTIVITY.select(
                ks,
                ["event_time", "event_id", "kind", "release_id"],
                where=["user_id"],
                limit=RECENT_ACTIVITY_MAX,
            )
        )
        self._release = prepare(RELEASES.select(ks, RELEASE_COLUMNS, where=["release_id"]))
        self._releases = prepare(RELEASES.select(ks, RELEASE_COLUMNS, where=["release_id IN"]))
        self._by_artist = prepare(
            RELEASES.select(ks, RELEASE_COLUMNS, where=["artists CONTAINS"], limit=BY_CREDIT_LIMIT)
        )
        self._by_label = prepare(
            RELEASES.select(ks, RELEASE_COLUMNS, where=["labels CONTAINS"], limit=BY_CREDIT_LIMIT)
        )
        self._features = prepare(
            RELEASES.select(
                ks, ["release_id", "genres", "styles", "artists", "labels"], where=["release_id IN"]
            )
        )
        self._trending = prepare(
            RELEASE_TRENDING_BATCHES.select(
                ks, ["batch_id", "release_id", "events"], where=["hour", "batch_id >="]
            )
        )
        self._runs = prepare(runs_query(ks))
        self._quality: Any = None
        self._cached_trending: Trending | None = None
        self._hour_counts: dict[datetime, HourCounts] = {}
        self._trending_features: dict[int, Features] = {}
        self._trending_lock = threading.Lock()

    @property
    def session(self) -> Session:
        """The session the statements were prepared on (held weakly: it is the cache key)."""
        session = self._session()
        if session is None:
            raise RuntimeError("the Cassandra session of these reads is gone")
        return session

    @classmethod
    def of(cls, session: Session, settings: Settings) -> Reads:
        """The one :class:`Reads` of this session and keyspace (prepared on first use)."""
        with cls._instances_lock:
            per_keyspace = cls._instances.setdefault(session, {})
            if settings.keyspace not in per_keyspace:
                per_keyspace[settings.keyspace] = cls(session, settings)
            return per_keyspace[settings.keyspace]

    def _one(self, statement: Any, params: Sequence[Any]) -> Any:
        return self.session.execute(statement, params).one()

    def _chunked(self, statement: Any, ids: Iterable[int]) -> list[Any]:
        """Rows of a ``WHERE key IN ?`` statement over the distinct ``ids``."""
        return rows_by_ids(self.session, statement, sorted(set(ids)), CONCURRENCY)

    def probe(self) -> None:
        """One cheap query (readiness); raises what the driver raises."""
        self.session.execute(self._probe, timeout=self.settings.api.health_timeout_s)

    def user(self, user_id: int) -> Any:
        """The ``users`` row (profile), or ``None``."""
        return self._one(self._user, (user_id,))

    def users(self, user_ids: Iterable[int]) -> dict[int, Any]:
        """Profiles by id (unknown ids are absent)."""
        return {row.user_id: row for row in self._chunked(self._users, user_ids)}

    def search(self, name: str) -> list[Any]:
        """Users whose whole name or username is ``name``, then those with every word of it.

        Both ignore case (SAI indexes; :func:`~discorecs.core.names.name_words`); each group is
        in id order, and a text of more than :data:`SEARCH_WORDS` words is matched by its
        longest ones.
        """
        whole = {row.user_id: row for row in self.session.execute(self._by_name, (name,))}
        for row in self.session.execute(self._by_username, (name,)):
            whole.setdefault(row.user_id, row)
        words = sorted(name_words(name), key=lambda word: (-len(word), word))[:SEARCH_WORDS]
        by_words = self.session.execute(self._by_words[len(words) - 1], words) if words else []
        worded = {row.user_id: row for row in by_words if row.user_id not in whole}
        found = [whole[u] for u in sorted(whole)] + [worded[u] for u in sorted(worded)]
        return found[:SEARCH_LIMIT]

    def scored(self, user_id: int) -> Any:
        """The ``users_scored`` row, or ``None``."""
        return self._one(self._scored, (user_id,))

    def known(self, user_id: int) -> tuple[Any, Any] | None:
        """The user's profile and scored rows (either may be ``None``); ``None`` when both are.

        A user is known by either row: a profile the stream wrote, or a scored row of a user
        whose profile never arrived.
        """
        profile, scored = self.user(user_id), self.scored(user_id)
        return None if profile is None and scored is None else (profile, scored)

    def collection(self, user_id: int) -> list[int]:
        """The user's releases as Cassandra holds them now, ascending."""
        return [row.release_id for row in self.session.execute(self._collection, (user_id,))]

    def newest_first(self, user_id: int) -> list[tuple[int, datetime | None]]:
        """The user's releases with when each was added (:func:`latest_adds_first`)."""
        rows = self.session.execute(self._added, (user_id,))
        return latest_adds_first([(row.release_id, row.added_at) for row in rows])

    def added_at(self, user_id: int, release_id: int) -> datetime | None:
        """When the release was added to the user's collection; None when it is not in it."""
        row = self._one(self._entry, (user_id, release_id))
        return None if row is None else row.added_at

    def activity(self, user_id: int) -> list[int]:
        """The distinct releases the user recently viewed, played or wanted, ascending.

        ``user_activity`` keeps 30 days, as the hourly job reads it.
        """
        rows = self.session.execute(self._activity, (user_id,))
        return sorted({row.release_id for row in rows})

    def recent_activity(self, user_id: int) -> list[Any]:
        """The user's latest :data:`RECENT_ACTIVITY_MAX` views, plays and wants, newest first.

        A row without its kind or release (not one the stream writes) is left out.
        """
        rows = self.session.execute(self._recent_activity, (user_id,))
        return [row for row in rows if row.kind is not None and row.release_id is not None]

    def collections(self, user_ids: Sequence[int]) -> dict[int, list[int]]:
        """Several users' collections, read concurrently."""
        results = execute_concurrent_with_args(
            self.session,
            self._collection,
            [(user_id,) for user_id in user_ids],
            concurrency=CONCURRENCY,
            raise_on_first_error=True,
        )
        return {
            user_id: [row.release_id for row in rows]
            for user_id, (_, rows) in zip(user_ids, results, strict=True)
        }

    def nearest(self, taste: np.ndarray, limit: int) -> list[Any]:
        """``users_scored`` rows nearest to ``taste`` by cosine (Cassandra's ANN over the index)."""
        return list(self.session.execute(self._nearest, ([float(x) for x in taste], limit)))

    def release(self, release_id: int) -> Any:
        """The ``releases`` row, or ``None``."""
        return self._one(self._release, (release_id,))

    def releases(self, release_ids: Iterable[int]) -> dict[int, Any]:
        """Release rows by id (unknown ids are absent)."""
        return {row.release_id: row for row in self._chunked(self._releases, release_ids)}

    def by_artist(self, artist: str) -> list[Any]:
        """Releases crediting ``artist`` (at most :data:`BY_CREDIT_LIMIT`)."""
        return list(self.session.execute(self._by_artist, (artist,)))

    def by_label(self, label: str) -> list[Any]:
        """Releases on ``label`` (at most :data:`BY_CREDIT_LIMIT`)."""
        return list(self.session.execute(self._by_label, (label,)))

    def features(self, release_ids: Iterable[int]) -> dict[int, Features]:
        """Genre and style weights and credits of releases, from ``releases``.

        The weights are computed with the hourly job's own functions, so they equal what it
        writes to ``release_scores``, also for a release loaded since its last run.
        """
        return {
            row.release_id: Features(
                genre_weights(row.genres),
                style_weights(row.styles),
                release_credits(row.artists, row.labels),
            )
            for row in self._chunked(self._features, release_ids)
        }

    def trending(self) -> Trending:
        """Events per release over the trending window, reused for ``api.trending_cache_s``.

        Each refresh reads, per hour partition of the window, only the micro-batches from the
        newest one it saw (:class:`HourCounts`), and the features of releases new to it.
        """
        with self._trending_lock:
            cached = self._cached_trending
            if cached and time.monotonic() - cached.read_at < self.settings.api.trending_cache_s:
                return cached
            hours = trending_hours(datetime.now(UTC), self.settings.scoring.trending_hours)
            counts = {hour: self._hour_counts.get(hour) or HourCounts() for hour in hours}
            results = execute_concurrent_with_args(
                self.session,
                self._trending,
                [(hour, hour_counts.newest) for hour, hour_counts in counts.items()],
                concurrency=CONCURRENCY,
                raise_on_first_error=True,
            )
            for hour_counts, (_, rows) in zip(counts.values(), results, strict=True):
                hour_counts.update((r.batch_id, r.release_id, r.events) for r in rows)
            self._hour_counts = counts
            events: dict[int, int] = {}
            for hour_counts in counts.values():
                hour_counts.add_to(events)
            known = self._trending_features
            known.update(self.features(r for r in events if r not in known))
            # Only the window's releases stay: the cache never outgrows one window.
            known = self._trending_features = {r: known[r] for r in events if r in known}
            self._cached_trending = rank_trending(events, known)
            return self._cached_trending

    def release_trending(self, release_id: int) -> int:
        """Activity events of one release over the trending window."""
        return self.trending().events.get(release_id, 0)

    def hourly_runs(self) -> list[HourlyRun]:
        """The recent hourly runs and their steps, newest first."""
        return group_runs(self.session.execute(self._runs, (HOURLY_PIPELINE,)))

    def quality_rows(self) -> list[Any] | None:
        """The newest ``(run_id, metric, value)`` rows of the hourly job's ``quality_runs``.

        ``None`` when the keyspace does not have the table yet (a schema applied before the
        table was added).
        """
        if self._quality is None:
            query = QUALITY_RUNS.select(
                self.settings.keyspace,
                ["run_id", "metric", "value"],
                where=["pipeline"],
                limit=QUALITY_ROWS,
            )
            try:
                self._quality = self.session.prepare(query)
            except InvalidRequest:
                return None
        return list(self.session.execute(self._quality, (HOURLY_PIPELINE,)))
