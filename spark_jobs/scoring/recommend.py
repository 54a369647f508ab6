"""Release recommendations from collections: the friend rule, neighbour ranking, fallback.

Collections are a CSR structure over user rows and release rows; release rows are ordered by
``release_id`` so "lowest release row" is "lowest release_id" in every tie-break.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numba
import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp


def find_sorted(sorted_values: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``values`` in ``sorted_values`` and whether each value is there at all."""
    if len(sorted_values) == 0:
        return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_values, values), len(sorted_values) - 1)
    return at, sorted_values[at] == values


def cells(table: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``table[rows, columns]`` of a 2-d array, by one take from its flat view.

    A third to a half faster than the fancy index for the million pairs of a candidate block.
    """
    flat = np.ascontiguousarray(table).ravel()
    return flat.take(np.asarray(rows, dtype=np.int64) * table.shape[1] + columns)


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
        base = max(n_releases, 1)
        keys = np.unique(np.asarray(user_pos, np.int64) * base + np.asarray(release_pos, np.int64))
        indptr = np.zeros(n_users + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys // base, minlength=n_users), out=indptr[1:])
        return cls(indptr, keys % base, n_releases)

    @classmethod
    def from_csr(cls, matrix: sp.csr_matrix) -> Collections:
        """The stored entries of a ``(users, releases)`` CSR matrix (indices sorted)."""
        return cls(matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64), matrix.shape[1])

    @property
    def n_users(self) -> int:
        """Number of user rows."""
        return len(self.indptr) - 1

    def sizes(self) -> np.ndarray:
        """Return the collection size of each user."""
        return np.diff(self.indptr)

    def popularity(self) -> np.ndarray:
        """Owners per release row."""
        return np.bincount(self.indices, minlength=self.n_releases)

    def owns(self, users: np.ndarray, releases: np.ndarray) -> np.ndarray:
        """Whether each ``users[i]`` owns ``releases[i]``.

        The pairs are looked up among the keys ``user * n_releases + release`` of those users'
        collections only, so the cost follows what they hold, not what everyone does.
        """
        users = np.asarray(users, np.int64)
        rows = np.unique(users)
        owner, at = expand_rows(self.indptr, rows)
        owned = rows[owner] * self.n_releases + self.indices[at]
        wanted = users * self.n_releases + np.asarray(releases, np.int64)
        return find_sorted(owned, wanted)[1]


@dataclass(frozen=True)
class Styles:
    """Each release row's styles (the finer axes beside the genres), as CSR.

    The styles of release ``r`` are ``ids[indptr[r]:indptr[r+1]]`` with the matching
    ``weights``.

    Attributes:
        indptr: ``(n_releases + 1,)`` int64 row offsets.
        ids: Style numbers (positions in the sorted vocabulary).
        weights: Their weights.
        n_styles: Size of the style vocabulary.

    """

    indptr: np.ndarray
    ids: np.ndarray
    weights: np.ndarray
    n_styles: int

    @classmethod
    def from_lists(
        cls, names: Sequence[Sequence[str] | None], weights: Sequence[Sequence[float] | None]
    ) -> Styles:
        """Number the style names of each release (vocabulary in sorted order).

        Args:
            names: Style names per release row (``None`` for none).
            weights: Their weights, aligned with ``names``.

        Returns:
            The styles as CSR.

        """
        rows = [list(n) if n is not None else [] for n in names]
        vocabulary = {name: i for i, name in enumerate(sorted({n for row in rows for n in row}))}
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(row) for row in rows], out=indptr[1:])
        ids = np.array([vocabulary[n] for row in rows for n in row], dtype=np.int64)
        values = np.array([w for ws in weights if ws is not None for w in ws], dtype=np.float32)
        return cls(indptr, ids, values, len(vocabulary))

    @classmethod
    def none(cls, n_releases: int) -> Styles:
        """No styles for any of ``n_releases`` releases."""
        empty = np.zeros(0, dtype=np.int64)
        return cls(np.zeros(n_releases + 1, np.int64), empty, empty.astype(np.float32), 0)


@dataclass(frozen=True)
class ReleaseFeatures:
    """What the rules know of each release row (rows ordered by ``release_id``).

    Attributes:
        genre_weights: ``(n_releases, 15)`` genre weights.
        styles: Style weights.
        owners: Number of users owning each release (over all users).
        trending: Recent activity events per release.
        credits: ``(n_releases, n_credits)`` artists and labels of each release, which discount
            repeated credits in a taste (:func:`.taste.taste_vectors`); None: no discount.

    """

    genre_weights: np.ndarray
    styles: Styles
    owners: np.ndarray
    trending: np.ndarray
    credits: sp.csr_matrix | None = None

    @property
    def n_releases(self) -> int:
        """Number of release rows."""
        return len(self.owners)

    @property
    def popularity(self) -> np.ndarray:
        """Owners plus trending events: the order of the fallback lists."""
        return self.owners + self.trending


def expand_rows(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each entry of ``rows``: (index into ``rows``, position in CSR) of all its items."""
    lengths = indptr[rows + 1] - indptr[rows]
    owner = np.repeat(np.arange(len(rows)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return owner, indptr[rows][owner] + offsets


def group_starts(grouped: np.ndarray) -> np.ndarray:
    """Where each run of equal values of ``grouped`` (equal values adjacent) starts."""
    first = np.ones(len(grouped), dtype=bool)
    np.not_equal(grouped[1:], grouped[:-1], out=first[1:])
    return np.flatnonzero(first)


def most_popular_first(popularity: np.ndarray, depth: int | None = None) -> np.ndarray:
    """Every release row by popularity, most popular first (ties: the lower row).

    Args:
        popularity: Per release row.
        depth: Only the first ``depth`` rows: those at least as popular as the ``depth``-th
            (a partition) are sorted, not every row.

    """
    n_rows = len(popularity)
    if depth is None or depth >= n_rows:
        return np.lexsort((np.arange(n_rows), -popularity))
    if depth <= 0:
        return np.zeros(0, dtype=np.int64)
    nth = np.partition(popularity, n_rows - depth)[n_rows - depth]
    contenders = np.flatnonzero(popularity >= nth)
    return contenders[np.lexsort((contenders, -popularity[contenders]))][:depth]


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

    Raises:
        ValueError: ``friend`` or ``popularity`` does not match the collections' users or
            releases.

    Each release gets its place in one order of the catalogue (most owned first, then the
    lower row); a compiled loop (:func:`_first_unowned`) then walks each friend's collection
    beside the user's (both sorted) and keeps the smallest place among the releases the user
    lacks. The numpy form it replaced (every pair keyed, then looked up among the owned keys,
    mostly sorting 19M keys) took 3.5 and 8.5 s against 1.1 and 0.5 s at 1M users with ~20
    releases each (``bench_scoring``'s world, random friends), the same releases.

    """
    _check_shape("popularity", len(popularity), "release rows", collections.n_releases)
    _check_shape("friend", len(friend), "user rows", collections.n_users)
    catalogue = most_popular_first(popularity)
    place = np.empty(len(popularity), dtype=np.int64)
    place[catalogue] = np.arange(len(popularity))
    friend = np.asarray(friend, dtype=np.int64)
    return _first_unowned(collections.indptr, collections.indices, friend, place, catalogue)


def _check_shape(name: str, length: int, of: str, expected: int) -> None:
    """Raise ValueError unless ``name`` has one entry per one of the collections' ``of``.

    The compiled loops index their arrays unchecked, so a mismatch must stop before them.
    """
    if length != expected:
        raise ValueError(f"{name} has {length} entries for {expected} {of}")


@numba.njit(nogil=True, cache=True)
def _first_unowned(
    indptr: np.ndarray,
    indices: np.ndarray,
    friend: np.ndarray,
    place: np.ndarray,
    catalogue: np.ndarray,
) -> np.ndarray:
    """Per user, the release of the friend's that the user lacks with the smallest ``place``.

    Args:
        indptr: ``(n_users + 1,)`` collection offsets.
        indices: Release rows, ascending within each user.
        friend: Friend row of each user (-1 for none).
        place: Each release row's place in ``catalogue``.
        catalogue: Release rows in the rule's order.

    Returns:
        ``(len(friend),)`` release rows, -1 when no friend or nothing new.

    """
    result = np.full(len(friend), -1, dtype=np.int64)
    for user in range(len(friend)):
        other = friend[user]
        if other < 0:
            continue
        mine, mine_end = indptr[user], indptr[user + 1]
        best = len(place)
        for at in range(indptr[other], indptr[other + 1]):
            release = indices[at]
            while mine < mine_end and indices[mine] < release:
                mine += 1
            if (mine == mine_end or indices[mine] != release) and place[release] < best:
                best = place[release]
        if best < len(place):
            result[user] = catalogue[best]
    return result


def popular_by_genre(
    popularity: np.ndarray, release_weights: np.ndarray, depth: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Fallback lists: the most popular releases overall and within each genre.

    Args:
        popularity: Popularity per release row (owners plus recent trending events).
        release_weights: ``(n_releases, 15)`` genre weights.
        depth: Length of each list.

    Returns:
        The overall list and one list per genre, release rows most popular first.

    """
    order = most_popular_first(popularity)
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
    features: ReleaseFeatures,
    n: int,
    chunk: int = 20_000,
) -> Ranked:
    """Rank the releases of the k nearest neighbours' collections for each user.

    A candidate's score is the sum of the similarities of the neighbours that own it; ties are
    broken by genre match (``taste · release genre weights``), then style match (the user's
    style profile · the release's style weights), then trending, then the lower release row,
    each quantised (:func:`_sort_key`). Releases the user owns are never candidates. The
    tie-breaks are computed only for the candidates whose score can still make the top ``n``.

    A compiled loop (:func:`_neighbour_top`) ranks one user at a time. Against the numpy rule
    it replaced (every pair of a chunk keyed, deduplicated and sorted), the hybrid's neighbour
    lists of 8 192 users in ``bench_hybrid``'s world (k = 10, n = 30, calls of 512) took
    0.15-0.19 s against 0.35-0.41 s, the same lists (one process, three rounds alternating).

    Args:
        collections: Collections of (at least) the users and their neighbours.
        users: Sorted rows of the users to rank for.
        neighbour_ids: ``(len(users), k)`` neighbour rows (-1 for none).
        neighbour_sims: ``(len(users), k)`` their similarities.
        taste: ``(n_users, 15)`` taste vectors.
        features: Genre and style weights and trending of the release rows.
        n: Recommendations per user.
        chunk: Users whose style profiles are held at once (bounds memory).

    Returns:
        ``(len(users), n)`` release rows and scores, -1 / nan padded when fewer candidates.

    Raises:
        ValueError: ``features`` describe another number of releases than the collections.

    """
    out_releases = np.full((len(users), n), -1, dtype=np.int64)
    out_scores = np.full((len(users), n), np.nan, dtype=np.float32)
    if n <= 0:
        return Ranked(out_releases, out_scores)
    _check_shape("features", features.n_releases, "release rows", collections.n_releases)
    genre_weights = np.ascontiguousarray(features.genre_weights, dtype=np.float32)
    taste = np.asarray(taste, dtype=np.float32)
    styles = features.styles
    for lo in range(0, len(users), chunk):
        chunk_users = np.asarray(users[lo : lo + chunk], dtype=np.int64)
        _neighbour_top(
            collections.indptr,
            collections.indices,
            chunk_users,
            np.asarray(neighbour_ids[lo : lo + chunk], dtype=np.int64),
            np.asarray(neighbour_sims[lo : lo + chunk], dtype=np.float32),
            taste,
            genre_weights,
            styles.indptr,
            styles.ids,
            styles.weights,
            style_profiles(collections, styles, chunk_users),
            features.trending,
            out_releases[lo : lo + chunk],
            out_scores[lo : lo + chunk],
        )
    return Ranked(out_releases, out_scores)


TIE_FIELD_MAX = 2**10 - 1
"""Largest value of each 10-bit tie-break field of the packed sort key (genre and style match in
thousandths, trending counts): larger values tie."""


SCORE_LEVELS = 2**17
"""Levels of a candidate's score in the packed sort key (steps of 1e-4, capped at 13.1)."""


@numba.njit(nogil=True, cache=True)
def _score_level(score: float) -> int:
    """A score as its level in the sort key: equal levels tie on score."""
    return int(min(max(np.rint(score * 1e4), 0.0), SCORE_LEVELS - 1))


@numba.njit(nogil=True, cache=True)
def _sort_key(level: int, genre: np.float32, style: np.float32, trending: int) -> int:
    """A candidate's place, ascending: score level, genre, style match, trending (descending).

    Genre and style match count in thousandths (rounded in float32), trending capped at
    :data:`TIE_FIELD_MAX`, all packed into one int64; equal keys go to the lower release row.
    """
    top = TIE_FIELD_MAX
    genre_q = int(min(max(np.rint(genre * np.float32(1e3)), 0), top))
    style_q = int(min(max(np.rint(style * np.float32(1e3)), 0), top))
    trend_q = min(max(trending, 0), top)
    key = ((SCORE_LEVELS - 1 - level) << 30) | ((top - genre_q) << 20)
    return key | ((top - style_q) << 10) | (top - trend_q)


@numba.njit(nogil=True, cache=True)
def _neighbour_top(
    indptr: np.ndarray,
    indices: np.ndarray,
    users: np.ndarray,
    neighbour_ids: np.ndarray,
    neighbour_sims: np.ndarray,
    taste: np.ndarray,
    genre_weights: np.ndarray,
    style_indptr: np.ndarray,
    style_ids: np.ndarray,
    style_weights: np.ndarray,
    profiles: np.ndarray,
    trending: np.ndarray,
    out_releases: np.ndarray,
    out_scores: np.ndarray,
) -> None:
    """Each user's top ``out_releases.shape[1]`` of :func:`rank_candidates`, written in place.

    A user's candidates are summed in one dense accumulator (neighbours in slot order, as the
    score's float64 sum always was), marked off as owned or seen by the user's own stamp. Each
    candidate is then offered to a buffer of the best n so far, ordered by sort key, then the
    lower row: its tie-breaks are computed only when its score level alone does not put it
    below the buffer's last. ``profiles`` are the users' style profiles.

    The buffer is :mod:`.rankers.selection`'s (``_enters``, ``_insert``) with keys for values,
    written again here on purpose: numba's cache does not notice a change to a compiled function
    of another file, so sharing it would leave this loop's cached code stale after an edit there.
    """
    n = out_releases.shape[1]
    n_releases = len(trending)
    mark = np.zeros(n_releases, dtype=np.int64)
    total = np.empty(n_releases, dtype=np.float64)
    candidates = np.empty(256, dtype=np.int64)
    keys = np.empty(n, dtype=np.int64)
    kept = np.empty(n, dtype=np.int64)
    for i in range(len(users)):
        user = users[i]
        owned, seen = 2 * i + 1, 2 * i + 2
        for at in range(indptr[user], indptr[user + 1]):
            mark[indices[at]] = owned
        reach = 0
        for slot in range(neighbour_ids.shape[1]):
            friend = neighbour_ids[i, slot]
            if friend >= 0:
                reach += indptr[friend + 1] - indptr[friend]
        if reach > len(candidates):
            candidates = np.empty(2 * reach, dtype=np.int64)
        count = 0
        for slot in range(neighbour_ids.shape[1]):
            friend = neighbour_ids[i, slot]
            if friend < 0:
                continue
            weight = np.float64(neighbour_sims[i, slot])
            for at in range(indptr[friend], indptr[friend + 1]):
                item = indices[at]
                if mark[item] == owned:
                    continue
                if mark[item] != seen:
                    mark[item] = seen
                    total[item] = 0.0
                    candidates[count] = item
                    count += 1
                total[item] += weight
        filled = 0
        for c in range(count):
            item = candidates[c]
            level = _score_level(total[item])
            if filled == n and (SCORE_LEVELS - 1 - level) << 30 > keys[n - 1]:
                continue  # below the n-th best on score alone, whatever its tie-breaks
            genre = np.float32(0.0)
            for g in range(genre_weights.shape[1]):
                genre += genre_weights[item, g] * taste[user, g]
            style = 0.0
            for e in range(style_indptr[item], style_indptr[item + 1]):
                style += style_weights[e] * profiles[i, style_ids[e]]
            key = _sort_key(level, genre, np.float32(style), trending[item])
            if filled == n and not _ahead(key, item, keys[n - 1], kept[n - 1]):
                continue
            at = filled if filled < n else n - 1
            filled = min(filled + 1, n)
            while at > 0 and _ahead(key, item, keys[at - 1], kept[at - 1]):
                keys[at], kept[at] = keys[at - 1], kept[at - 1]
                at -= 1
            keys[at], kept[at] = key, item
        for t in range(filled):
            out_releases[i, t] = kept[t]
            out_scores[i, t] = total[kept[t]]


@numba.njit(nogil=True, cache=True)
def _ahead(key: int, item: int, other_key: int, other_item: int) -> bool:
    """Whether a candidate ranks before another: the smaller key, then the lower row."""
    return key < other_key or (key == other_key and item < other_item)


def style_profiles(collections: Collections, styles: Styles, users: np.ndarray) -> np.ndarray:
    """Each user's style profile: the L2-normalised sum of their releases' style weights.

    Args:
        collections: Collections of (at least) ``users``.
        styles: Style weights of the release rows.
        users: User rows.

    Returns:
        ``(len(users), n_styles)`` float32 (zero rows for users without styled releases).

    """
    width = max(styles.n_styles, 1)
    owner, at = expand_rows(collections.indptr, users)
    entry_of, entry = expand_rows(styles.indptr, collections.indices[at])
    cells = owner[entry_of] * width + styles.ids[entry]
    sums = np.bincount(cells, weights=styles.weights[entry], minlength=len(users) * width)
    profile = sums.reshape(len(users), width).astype(np.float32)
    norms = np.linalg.norm(profile, axis=1, keepdims=True)
    return np.divide(profile, norms, out=profile, where=norms > 0)
