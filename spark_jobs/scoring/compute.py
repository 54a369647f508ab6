"""In-memory scoring of a whole world, full or incremental: the maths the hourly batch runs.

The Spark layer feeds these functions with arrays read from Cassandra; the benchmark feeds them
1M synthetic users. Every step is timed into :attr:`Scores.timings`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from spark_jobs.scoring.friends import (
    AnnConfig,
    Neighbours,
    TasteIndex,
    nearest_neighbours,
    recall_at_1,
)
from spark_jobs.scoring.ranks import genre_percentiles
from spark_jobs.scoring.recommend import (
    N_RECS,
    Collections,
    Ranked,
    fallback,
    most_owned_unowned,
    popular_by_genre,
    rank_candidates,
)
from spark_jobs.scoring.taste import has_taste, taste_vectors

K_NEIGHBOURS = 10


@dataclass
class World:
    """Everything scoring reads: users, releases, collections, trending.

    Attributes:
        release_weights: ``(n_releases, 15)`` genre weights, rows ordered by release_id.
        collections: Owned releases per user row (user rows ordered by user_id).
        trending: Recent trending events per release row.

    """

    release_weights: np.ndarray
    collections: Collections
    trending: np.ndarray


@dataclass
class Scores:
    """Per-user results (rows of the world's users) and how long each step took."""

    taste: np.ndarray
    ranks: np.ndarray
    neighbours: Neighbours
    friend_release: np.ndarray
    recommendations: Ranked
    rescored: np.ndarray
    recall: float = 1.0
    recall_sample: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[step] = time.perf_counter() - start


def user_tastes(world: World, users: np.ndarray) -> np.ndarray:
    """Taste vectors of the given user rows from their collections (``(len(users), 15)``)."""
    c = world.collections
    lengths = c.indptr[users + 1] - c.indptr[users]
    owner = np.repeat(np.arange(len(users)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    releases = c.indices[c.indptr[users][owner] + offsets]
    return taste_vectors(owner, releases, world.release_weights, len(users))


def recommend_for(
    world: World, taste: np.ndarray, neighbours: Neighbours, users: np.ndarray, n: int = N_RECS
) -> tuple[np.ndarray, Ranked]:
    """Friend-rule release and ranked top-n (with the popularity fallback) for some users.

    Args:
        world: Collections, weights and trending.
        taste: ``(n_users, 15)`` taste vectors of everyone.
        neighbours: Neighbours of (at least) ``users``.
        users: Sorted user rows to recommend for.
        n: List length.

    Returns:
        The friend-rule release row of every user row (-1 outside ``users`` or when none) and the
        ranked lists of ``users``; the friend rule falls back to the top of the list.

    """
    c = world.collections
    owners = c.popularity()
    popularity = owners + world.trending
    friend = np.full(c.n_users, -1, dtype=np.int64)
    friend[users] = neighbours.friend[users]
    friend_release = most_owned_unowned(c, friend, owners)
    ranked = rank_candidates(
        c,
        users,
        neighbours.ids[users],
        neighbours.sims[users],
        taste,
        world.release_weights,
        world.trending,
        n=n,
    )
    lists = popular_by_genre(popularity, world.release_weights)
    short = np.flatnonzero(ranked.releases[:, -1] < 0)
    valid = has_taste(taste)
    for row in short.tolist():
        user = int(users[row])
        have = ranked.releases[row][ranked.releases[row] >= 0]
        top = int(np.argmax(taste[user])) if valid[user] else None
        extra = fallback(c, user, top, lists, have, n - len(have))
        ranked.releases[row, len(have) : len(have) + len(extra)] = extra
        ranked.scores[row, len(have) : len(have) + len(extra)] = 0.0
    missing = users[friend_release[users] < 0]
    friend_release[missing] = ranked.releases[np.searchsorted(users, missing), 0]
    return friend_release, ranked


def score_full(
    world: World,
    k: int = K_NEIGHBOURS,
    config: AnnConfig | None = None,
    recall_sample: int = 1000,
) -> Scores:
    """Score every user from scratch.

    Args:
        world: The data.
        k: Neighbours per user for the ranked list (the first one is the friend).
        config: HNSW parameters.
        recall_sample: Users sampled for the recall@1 check against exact search.

    Returns:
        Scores of every user row.

    """
    timings: dict[str, float] = {}
    users = np.arange(world.collections.n_users)
    with _timed(timings, "taste"):
        taste = user_tastes(world, users)
    with _timed(timings, "ranks"):
        ranks = genre_percentiles(taste, has_taste(taste))
    with _timed(timings, "friends_ann"):
        neighbours = nearest_neighbours(taste, k, config)
    with _timed(timings, "recall_check"):
        recall, sample = recall_at_1(taste, neighbours.friend, recall_sample)
    with _timed(timings, "recommendations"):
        friend_release, ranked = recommend_for(world, taste, neighbours, users)
    counts = {"users": len(users), "taste_recomputed": len(users), "rescored": len(users)}
    return Scores(
        taste, ranks, neighbours, friend_release, ranked, users, recall, sample, timings, counts
    )


def affected_users(
    friend: np.ndarray,
    friend_similarity: np.ndarray,
    changed: np.ndarray,
    neighbours_of_changed: Neighbours,
) -> np.ndarray:
    """Users whose friend or neighbour list may differ after ``changed`` users' tastes moved.

    These are the changed users, the users whose friend is a changed user, and the users near a
    changed user's new taste that are now closer to it than to their stored friend.

    Args:
        friend: Stored friend row of every user (-1 for none).
        friend_similarity: Stored similarity to that friend (nan for none).
        changed: Rows whose taste was recomputed.
        neighbours_of_changed: Fresh neighbours of the changed rows.

    Returns:
        Sorted user rows.

    """
    friend_moved = np.flatnonzero(np.isin(friend, changed))
    ids = neighbours_of_changed.ids[changed]
    sims = neighbours_of_changed.sims[changed]
    has = ids >= 0
    near, sim = ids[has], sims[has]
    closer = near[~(sim <= friend_similarity[near])]
    return np.unique(np.concatenate([changed, friend_moved, closer]))


def score_incremental(
    world: World,
    previous: Scores,
    changed: np.ndarray,
    k: int = K_NEIGHBOURS,
    config: AnnConfig | None = None,
    recall_sample: int = 1000,
) -> Scores:
    """Rescore after the collections of ``changed`` users moved; others keep their taste.

    Tastes are recomputed for ``changed`` only; ranks for everyone (a sort per genre); the ANN
    index is rebuilt over all tastes, but only affected users (:func:`affected_users`) are
    searched and get new friends and recommendations.

    Args:
        world: The data, with the changed collections already applied.
        previous: Scores of the previous hour (stored taste, friends, recommendations).
        changed: Sorted rows of users staged in ``changed_users`` (or never scored).
        k: Neighbours per user.
        config: HNSW parameters.
        recall_sample: Users sampled for the recall@1 check.

    Returns:
        Scores of every user row; ``rescored`` lists the rows that were recomputed.

    """
    timings: dict[str, float] = {}
    with _timed(timings, "taste"):
        taste = previous.taste.copy()
        taste[changed] = user_tastes(world, changed)
    with _timed(timings, "ranks"):
        ranks = genre_percentiles(taste, has_taste(taste))
    with _timed(timings, "friends_ann"):
        index = TasteIndex(taste, config)
        affected = affected_users(
            previous.neighbours.friend,
            previous.neighbours.friend_similarity,
            changed,
            index.neighbours(k, rows=changed),
        )
        fresh = index.neighbours(k, rows=affected)
        ids = previous.neighbours.ids.copy()
        sims = previous.neighbours.sims.copy()
        ids[affected], sims[affected] = fresh.ids[affected], fresh.sims[affected]
        neighbours = Neighbours(ids, sims)
    with _timed(timings, "recall_check"):
        recall, sample = recall_at_1(taste, neighbours.friend, recall_sample)
    with _timed(timings, "recommendations"):
        friend_release, ranked_affected = recommend_for(world, taste, neighbours, affected)
        friend_release_all = previous.friend_release.copy()
        friend_release_all[affected] = friend_release[affected]
        releases = previous.recommendations.releases.copy()
        scores = previous.recommendations.scores.copy()
        releases[affected], scores[affected] = ranked_affected.releases, ranked_affected.scores
    counts = {
        "users": world.collections.n_users,
        "taste_recomputed": len(changed),
        "rescored": len(affected),
    }
    return Scores(
        taste,
        ranks,
        neighbours,
        friend_release_all,
        Ranked(releases, scores),
        affected,
        recall,
        sample,
        timings,
        counts,
    )
