"""Release recommendations from collections: the friend rule, neighbour ranking, fallback.

Collections are a CSR structure over user rows and release rows; release rows are ordered by
``release_id`` so "lowest release row" is "lowest release_id" in every tie-break.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_RECS = 10
FALLBACK_DEPTH = 200


@dataclass(frozen=True)
class Collections:
    """Who owns what, as CSR: the releases of user ``u`` are ``indices[indptr[u]:indptr[u+1]]``.

    Attributes:
        indptr: ``(n_users + 1,)`` int64 row offsets.
        indices: Release rows, ascending within each user.
        n_releases: Number of release rows.

    """

    indptr: np.ndarray
    indices: np.ndarray
    n_releases: int

    @classmethod
    def from_pairs(
        cls, user_pos: np.ndarray, release_pos: np.ndarray, n_users: int, n_releases: int
    ) -> Collections:
        """Build from (user row, release row) pairs; duplicates are dropped."""
        keys = np.unique(np.asarray(user_pos, np.int64) * n_releases + np.asarray(release_pos))
        users = keys // n_releases
        indptr = np.zeros(n_users + 1, dtype=np.int64)
        np.cumsum(np.bincount(users, minlength=n_users), out=indptr[1:])
        return cls(indptr, (keys % n_releases).astype(np.int64), n_releases)

    @property
    def n_users(self) -> int:
        """Number of user rows."""
        return len(self.indptr) - 1

    def sizes(self) -> np.ndarray:
        """Return the collection size of each user."""
        return np.diff(self.indptr)

    def owned_keys(self) -> np.ndarray:
        """Sorted ``user * n_releases + release`` keys of every owned pair."""
        users = np.repeat(np.arange(self.n_users, dtype=np.int64), self.sizes())
        return users * self.n_releases + self.indices

    def popularity(self) -> np.ndarray:
        """Owners per release row."""
        return np.bincount(self.indices, minlength=self.n_releases)

    def owns(self, users: np.ndarray, releases: np.ndarray) -> np.ndarray:
        """Whether each ``users[i]`` owns ``releases[i]``."""
        keys = self.owned_keys()
        wanted = np.asarray(users, np.int64) * self.n_releases + np.asarray(releases, np.int64)
        at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
        return keys[at] == wanted if len(keys) else np.zeros(len(wanted), dtype=bool)


def _expand(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each entry of ``rows``: (index into ``rows``, position in CSR) of all its items."""
    lengths = indptr[rows + 1] - indptr[rows]
    owner = np.repeat(np.arange(len(rows)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return owner, indptr[rows][owner] + offsets


def most_owned_unowned(
    collections: Collections, friend: np.ndarray, popularity: np.ndarray
) -> np.ndarray:
    """Apply the discorecs rule: the most-owned release in the friend's collection the user lacks.

    Args:
        collections: Every user's collection.
        friend: Friend row of each user (-1 for none).
        popularity: Owners per release row (ties broken by the lower release row).

    Returns:
        Release row per user, -1 when there is no friend or nothing new in their collection.

    """
    users = np.flatnonzero(friend >= 0)
    result = np.full(collections.n_users, -1, dtype=np.int64)
    if len(users) == 0:
        return result
    owner, at = _expand(collections.indptr, friend[users])
    release = collections.indices[at]
    user = users[owner]
    keep = ~collections.owns(user, release)
    user, release = user[keep], release[keep]
    order = np.lexsort((release, -popularity[release], user))
    user, release = user[order], release[order]
    first = np.ones(len(user), dtype=bool)
    first[1:] = user[1:] != user[:-1]
    result[user[first]] = release[first]
    return result


def popular_by_genre(
    popularity: np.ndarray, release_weights: np.ndarray, depth: int = FALLBACK_DEPTH
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Fallback lists: the most popular releases overall and within each genre.

    Args:
        popularity: Popularity per release row (owners plus recent trending events).
        release_weights: ``(n_releases, 15)`` genre weights.
        depth: Length of each list.

    Returns:
        The overall list and one list per genre, release rows most popular first.

    """
    order = np.lexsort((np.arange(len(popularity)), -popularity))
    overall = order[:depth]
    per_genre = []
    for genre in range(release_weights.shape[1]):
        in_genre = order[release_weights[order, genre] > 0]
        per_genre.append(in_genre[:depth])
    return overall, per_genre


def fallback(
    collections: Collections,
    user: int,
    top_genre: int | None,
    lists: tuple[np.ndarray, list[np.ndarray]],
    exclude: np.ndarray,
    n: int,
) -> np.ndarray:
    """Up to ``n`` popular releases in the user's top genre (overall when unknown) not owned.

    Args:
        collections: Every user's collection.
        user: The user row.
        top_genre: Index of the user's top genre, ``None`` for an empty collection.
        lists: Output of :func:`popular_by_genre`.
        exclude: Release rows already recommended.
        n: How many to return.

    Returns:
        Release rows, most popular first.

    """
    overall, per_genre = lists
    pool = overall if top_genre is None else np.concatenate([per_genre[top_genre], overall])
    owned = collections.indices[collections.indptr[user] : collections.indptr[user + 1]]
    _, first = np.unique(pool, return_index=True)
    pool = pool[np.sort(first)]
    pool = pool[~np.isin(pool, owned) & ~np.isin(pool, exclude)]
    return pool[:n]


@dataclass(frozen=True)
class Ranked:
    """Top-N recommendations per user: ``releases[u]`` rows (-1 padded) and their scores."""

    releases: np.ndarray
    scores: np.ndarray


def rank_candidates(
    collections: Collections,
    users: np.ndarray,
    neighbour_ids: np.ndarray,
    neighbour_sims: np.ndarray,
    taste: np.ndarray,
    release_weights: np.ndarray,
    trending: np.ndarray,
    n: int = N_RECS,
    chunk: int = 20_000,
) -> Ranked:
    """Rank the releases of the k nearest neighbours' collections for each user.

    A candidate's score is the sum of the similarities of the neighbours that own it; ties are
    broken by genre match (``taste · release genre weights``), then trending, then the lower
    release row. Releases the user owns are never candidates.

    Args:
        collections: Every user's collection.
        users: Rows of the users to rank for.
        neighbour_ids: ``(len(users), k)`` neighbour rows (-1 for none).
        neighbour_sims: ``(len(users), k)`` their similarities.
        taste: ``(n_users, 15)`` taste vectors.
        release_weights: ``(n_releases, 15)`` genre weights.
        trending: Recent trending events per release row.
        n: Recommendations per user.
        chunk: Users processed at once (bounds memory).

    Returns:
        ``(len(users), n)`` release rows and scores, -1 / nan padded when fewer candidates.

    """
    out_releases = np.full((len(users), n), -1, dtype=np.int64)
    out_scores = np.full((len(users), n), np.nan, dtype=np.float32)
    owned = collections.owned_keys()
    r = collections.n_releases
    sparse_weights = _sparse_rows(release_weights)
    for lo in range(0, len(users), chunk):
        ids = neighbour_ids[lo : lo + chunk]
        sims = neighbour_sims[lo : lo + chunk]
        local, slot = np.nonzero(ids >= 0)
        owner, at = _expand(collections.indptr, ids[local, slot])
        release = collections.indices[at]
        who = local[owner]
        keys = (users[lo + who].astype(np.int64)) * r + release
        at_owned = np.minimum(np.searchsorted(owned, keys), max(len(owned) - 1, 0))
        fresh = owned[at_owned] != keys if len(owned) else np.ones(len(keys), dtype=bool)
        keys, weight = keys[fresh], sims[local[owner], slot[owner]][fresh]
        pair, inverse = np.unique(keys, return_inverse=True)
        score = np.bincount(inverse.reshape(-1), weights=weight, minlength=len(pair))
        pair_user, pair_release = pair // r, pair % r
        match = _genre_match(taste, sparse_weights, pair_user, pair_release)
        local_row = _positions(users[lo : lo + chunk], pair_user)
        order = _rank_order(local_row, score, match, trending[pair_release])
        pair_user, pair_release, score = pair_user[order], pair_release[order], score[order]
        local_row = local_row[order]
        starts = np.flatnonzero(np.r_[True, pair_user[1:] != pair_user[:-1]])
        rank = np.arange(len(pair_user)) - np.repeat(starts, np.diff(np.r_[starts, len(pair_user)]))
        top = rank < n
        row = lo + local_row[top]
        out_releases[row, rank[top]] = pair_release[top]
        out_scores[row, rank[top]] = score[top]
    return Ranked(out_releases, out_scores)


def _rank_order(
    local_user: np.ndarray, score: np.ndarray, match: np.ndarray, trending: np.ndarray
) -> np.ndarray:
    """Order pairs by user row, then score, genre match, trending (all descending), stably.

    The pairs arrive sorted by (user, release), so the stable sort keeps the lower release
    first among full ties. Keys are packed into one int64: score to 1e-4, match to 1e-3,
    trending capped at 1023.
    """
    score_q = np.clip(np.rint(score * 1e4), 0, 2**20 - 1).astype(np.int64)
    match_q = np.clip(np.rint(match * 1e3), 0, 1023).astype(np.int64)
    trend_q = np.clip(trending, 0, 1023).astype(np.int64)
    key = (local_user.astype(np.int64) << 40) | ((2**20 - 1 - score_q) << 20)
    key |= ((1023 - match_q) << 10) | (1023 - trend_q)
    return np.argsort(key, kind="stable")


def _sparse_rows(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of each row's non-zeros, padded to the widest row."""
    width = max(int(np.count_nonzero(weights, axis=1).max(initial=0)), 1)
    columns = np.argsort(weights == 0, axis=1, kind="stable")[:, :width]
    return columns, np.take_along_axis(weights, columns, axis=1)


def _genre_match(
    taste: np.ndarray,
    sparse_weights: tuple[np.ndarray, np.ndarray],
    users: np.ndarray,
    releases: np.ndarray,
) -> np.ndarray:
    """``taste[users[i]] · weights[releases[i]]`` using the releases' few non-zero genres."""
    columns, values = sparse_weights
    flat = taste.reshape(-1)
    match = np.zeros(len(users), dtype=np.float32)
    for j in range(columns.shape[1]):
        match += values[releases, j] * flat[users * taste.shape[1] + columns[releases, j]]
    return match


def _positions(chunk_users: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    order = np.argsort(chunk_users)
    return order[np.searchsorted(chunk_users[order], wanted)]
