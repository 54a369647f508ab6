"""Recommendations recomputed now from Cassandra: today's neighbour rule, live.

:func:`fresh_recommendations` is the one entry point (``GET /users/{id}/recommendations?fresh=
true``); a ranker with the same signature can replace it. This version applies the hourly job's
rule (:mod:`spark_jobs.scoring.compute`) to what Cassandra holds at the moment of the request:

1. the user's collection as ``user_collection`` holds it now (no cache, so an add applied by the
   stream shows at the next request);
2. its taste, as the hourly job computes it (:func:`~spark_jobs.scoring.taste.taste_vectors`)
   from the genres, artists and labels in ``releases``, and its style profile;
3. the k look-alike users (``scoring.neighbours``) by Cassandra's ANN query on
   ``users_scored.taste`` (their tastes as of the last hourly run), and their collections now;
4. candidates the user does not own, scored by the summed similarity of the look-alikes owning
   them, ties broken by genre match, style match, trending, then the lower release id;
5. padded with the releases trending most in the user's top genre, then overall.

It never returns a release the user owns. One difference from the hourly job: the look-alikes
are the raw nearest users, while the hourly job takes one user per distinct taste vector.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from cassandra.cluster import Session

from discorecs.app.api.reads import Features, Reads, Trending
from discorecs.core.genres import GENRES
from discorecs.core.settings import Settings
from spark_jobs.scoring.recommend import TIE_FIELD_MAX
from spark_jobs.scoring.taste import taste_vectors

NEIGHBOURS = "neighbours"
TRENDING_GENRE = "trending_genre"
TRENDING = "trending"


@dataclass(frozen=True)
class LiveUser:
    """A user as Cassandra holds them now.

    Attributes:
        user_id: The user.
        owned: Releases in the collection, ascending.
        taste: ``(15,)`` unit taste over :data:`GENRES` of the releases and recent activity
            (zeros when there is neither).
        styles: Style profile: the L2-normalised sum of the releases' style weights.
        top_genre: The strongest genre of the taste; without a taste the stored one, else
            ``None``.

    """

    user_id: int
    owned: tuple[int, ...]
    taste: np.ndarray
    styles: dict[str, float]
    top_genre: str | None

    @property
    def has_taste(self) -> bool:
        """True when the collection gives a taste (some release has a known genre)."""
        return bool(np.any(self.taste))


@dataclass(frozen=True)
class Neighbour:
    """A look-alike user: cosine similarity of the tastes, and their collection now."""

    user_id: int
    similarity: float
    releases: tuple[int, ...]


@dataclass(frozen=True)
class Recommendation:
    """One recommended release, its score, where it came from and why, in words."""

    release_id: int
    score: float
    source: str
    reason: str


def credit_matrix(features: Sequence[Features]) -> sp.csr_matrix:
    """The releases' credits as a ``(releases, distinct credits)`` 0/1 CSR."""
    columns: dict[str, int] = {}
    rows = [[columns.setdefault(c, len(columns)) for c in sorted(f.credits)] for f in features]
    indptr = np.cumsum([0, *map(len, rows)])
    indices = np.array([c for row in rows for c in row], dtype=np.int64)
    shape = (len(features), max(len(columns), 1))
    return sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=shape)


def live_profile(
    owned: Sequence[Features], played: Sequence[Features] = ()
) -> tuple[np.ndarray, dict[str, float]]:
    """Taste (collection and recent activity) and style profile (collection) of a user.

    Args:
        owned: The owned releases' features.
        played: The features of the distinct releases the user recently viewed, played or
            wanted and does not own; they join the taste as in the hourly job
            (:func:`.taste_vectors`).

    Returns:
        The ``(15,)`` unit taste (zeros when no release has a genre) and the unit style profile
        of the collection.

    """
    releases = [*owned, *played]
    weights = np.stack([f.genres for f in releases]) if releases else np.zeros((0, len(GENRES)))
    taste = taste_vectors(
        np.zeros(len(releases), dtype=np.int64),
        np.arange(len(releases)),
        weights,
        1,
        credit_matrix(releases),
    )[0]
    sums: dict[str, float] = defaultdict(float)
    for feature in owned:
        for style, weight in feature.styles.items():
            sums[style] += weight
    norm = float(np.sqrt(sum(v * v for v in sums.values())))
    return taste, {style: v / norm for style, v in sums.items()} if norm else {}


def read_live_user(session: Session, settings: Settings, user_id: int) -> LiveUser:
    """The user's collection, taste (with their recent activity), styles and top genre, now."""
    reads = Reads.of(session, settings)
    owned = reads.collection(user_id)
    mine = set(owned)
    played = [r for r in reads.activity(user_id) if r not in mine]
    features = reads.features([*owned, *played])
    taste, styles = live_profile(
        [features[r] for r in owned if r in features],
        [features[r] for r in played if r in features],
    )
    if np.any(taste):
        top_genre: str | None = GENRES[int(np.argmax(taste))]
    else:
        stored = reads.scored(user_id)
        top_genre = stored.top_genre if stored is not None else None
    return LiveUser(user_id, tuple(owned), taste, styles, top_genre)


def look_alikes(reads: Reads, user: LiveUser, k: int) -> list[Neighbour]:
    """The ``k`` users nearest to the user's live taste (ANN), with their collections now."""
    if not user.has_taste or k <= 0:
        return []
    nearest = [
        (row.user_id, float(np.dot(user.taste, np.asarray(row.taste, dtype=np.float32))))
        for row in reads.nearest(user.taste, k + 1)
        if row.user_id != user.user_id and row.taste is not None
    ][:k]
    collections = reads.collections([user_id for user_id, _ in nearest])
    return [Neighbour(u, sim, tuple(collections[u])) for u, sim in nearest]


def rank_neighbour_candidates(
    user: LiveUser,
    neighbours: Sequence[Neighbour],
    features: dict[int, Features],
    trending: dict[int, int],
) -> list[Recommendation]:
    """Releases of the look-alikes the user lacks, best first.

    The score is the summed similarity of the look-alikes owning a release; ties go to the
    better genre match (taste · genre weights), then style match, then trending (capped at
    ``TIE_FIELD_MAX``), then the lower release id, each quantised as in the hourly job.
    """
    owned = set(user.owned)
    score: dict[int, float] = defaultdict(float)
    owners: dict[int, int] = defaultdict(int)
    for neighbour in neighbours:
        for release in neighbour.releases:
            if release not in owned:
                score[release] += neighbour.similarity
                owners[release] += 1

    def key(release: int) -> tuple[int, int, int, int, int]:
        feature = features.get(release)
        genre = float(np.dot(user.taste, feature.genres)) if feature else 0.0
        style = (
            sum(w * user.styles.get(s, 0.0) for s, w in feature.styles.items()) if feature else 0.0
        )
        return (
            -round(score[release] * 1e4),
            -round(genre * 1e3),
            -round(style * 1e3),
            -min(trending.get(release, 0), TIE_FIELD_MAX),
            release,
        )

    return [
        Recommendation(
            release,
            score[release],
            NEIGHBOURS,
            f"owned by {owners[release]} of your {len(neighbours)} look-alike collectors",
        )
        for release in sorted(score, key=key)
    ]


def pad_with_trending(
    ranked: list[Recommendation],
    user: LiveUser,
    trending: Trending,
    n: int,
) -> list[Recommendation]:
    """The first ``n`` of ``ranked``, then releases trending in the top genre, then overall."""
    chosen = ranked[:n]
    seen = set(user.owned) | {r.release_id for r in chosen}
    pools: list[tuple[tuple[int, ...], str, str]] = []
    if user.top_genre is not None:
        pool = trending.by_genre.get(user.top_genre, ())
        pools.append((pool, TRENDING_GENRE, f"trending in your top genre, {user.top_genre}"))
    pools.append((trending.ranked, TRENDING, "trending with collectors right now"))
    for pool, source, reason in pools:
        for release in pool:
            if len(chosen) >= n:
                return chosen
            if release not in seen:
                seen.add(release)
                chosen.append(Recommendation(release, 0.0, source, reason))
    return chosen


def fresh_recommendations(
    session: Session,
    settings: Settings,
    user_id: int,
    n: int,
    *,
    live: LiveUser | None = None,
) -> list[Recommendation]:
    """Recommend ``n`` releases to a user from what Cassandra holds now (see module doc).

    Args:
        session: The process's Cassandra session.
        settings: Keyspace, ``scoring.neighbours`` and the trending window.
        user_id: The user.
        n: List length.
        live: The user as just read by :func:`read_live_user` (read here when ``None``).

    Returns:
        At most ``n`` recommendations, none of them owned; fewer when there is not enough to
        recommend.

    """
    reads = Reads.of(session, settings)
    user = live if live is not None else read_live_user(session, settings, user_id)
    neighbours = look_alikes(reads, user, settings.scoring.neighbours)
    candidates = {r for neighbour in neighbours for r in neighbour.releases} - set(user.owned)
    trending = reads.trending()
    ranked = rank_neighbour_candidates(
        user, neighbours, reads.features(candidates), trending.events
    )
    return pad_with_trending(ranked, user, trending, n)
