"""The hourly scoring rules over arrays, full or incremental: one implementation for all callers.

The hourly job (:mod:`.hourly`) feeds :func:`score` with what it read from Cassandra and a
loader over the run's collections; the benchmark feeds it 1M synthetic users and an in-memory
loader. Each step runs inside ``step(name, rows)``, which the caller uses to time and
log it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from discorecs.core.settings import ScoringSettings
from discorecs.core.timing import StepTimer
from spark_jobs.scoring.friends import (
    Neighbours,
    TasteIndex,
    VectorIndex,
    recall_at_1,
    reliability,
    reliable_first,
)
from spark_jobs.scoring.ranks import genre_percentiles
from spark_jobs.scoring.recommend import (
    Collections,
    Ranked,
    ReleaseFeatures,
    expand_rows,
    fallback,
    most_owned_unowned,
    popular_by_genre,
    rank_candidates,
)
from spark_jobs.scoring.taste import has_taste, taste_vectors, top_genres

LoadCollections = Callable[[np.ndarray], Collections]
"""Collections of the given sorted user rows: a CSR over all user rows where at least those
rows are filled (others may be empty)."""

LoadActivity = Callable[[np.ndarray], sp.csr_matrix]
"""The releases the given sorted user rows recently viewed, played or wanted, as a
``(len(rows), n_releases)`` CSR (non-zero where active): part of their taste, and all of it for
a user with an empty collection."""


@dataclass
class UserState:
    """What the previous run stored, per user row (zeros, -1 and nan for users never scored).

    Attributes:
        taste: ``(n_users, 15)`` taste vectors.
        sizes: Collection sizes.
        friend: Friend row (-1 for none).
        friend_similarity: Cosine similarity to the friend (nan for none).
        scored: Whether the user has a stored score.

    """

    taste: np.ndarray
    sizes: np.ndarray
    friend: np.ndarray
    friend_similarity: np.ndarray
    scored: np.ndarray

    @classmethod
    def unscored(cls, n_users: int, dims: int = 15) -> UserState:
        """The state of ``n_users`` users that were never scored."""
        return cls(
            np.zeros((n_users, dims), dtype=np.float32),
            np.zeros(n_users, dtype=np.int64),
            np.full(n_users, -1, dtype=np.int64),
            np.full(n_users, np.nan, dtype=np.float32),
            np.zeros(n_users, dtype=bool),
        )


@dataclass
class Scores:
    """The outcome of one run.

    Attributes:
        taste: ``(n_users, 15)`` taste vectors of every user, after this run.
        sizes: Collection sizes of every user, after this run.
        top_genre: Index of each user's top genre (from the taste); -1 when unknown.
        ranks: ``(n_users, 15)`` genre percentiles of every user.
        rescored: Sorted rows whose friend and recommendations were recomputed.
        neighbours: Neighbours, filled at the ``rescored`` rows.
        friend_release: Friend-rule release row, filled at the ``rescored`` rows (-1 if none).
        recommendations: Ranked lists of the ``listed`` rows, in that order.
        listed: Sorted rows (of ``rescored``) whose recommendations were made by this run.
        recall: ANN recall@1 against exact search on a sample.
        recall_sample: Size of that sample.
        index: The taste index of every user, built by this run.
        counts: ``users``, ``taste_recomputed``, ``rescored``, ``cold_start`` (rescored users
            with an empty collection).

    """

    taste: np.ndarray
    sizes: np.ndarray
    top_genre: np.ndarray
    ranks: np.ndarray
    rescored: np.ndarray
    neighbours: Neighbours
    friend_release: np.ndarray
    recommendations: Ranked
    listed: np.ndarray
    recall: float
    recall_sample: int
    index: TasteIndex
    counts: dict[str, int] = field(default_factory=dict)

    def next_state(self, previous: UserState) -> UserState:
        """What ``users_scored`` holds after this run was written over ``previous``."""
        friend = previous.friend.copy()
        similarity = previous.friend_similarity.copy()
        friend[self.rescored] = self.neighbours.friend[self.rescored]
        similarity[self.rescored] = self.neighbours.friend_similarity[self.rescored]
        scored = previous.scored.copy()
        scored[self.rescored] = True
        return UserState(self.taste, self.sizes, friend, similarity, scored)


def user_tastes(
    collections: Collections,
    genre_weights: np.ndarray,
    users: np.ndarray,
    activity: sp.csr_matrix | None = None,
    credits: sp.csr_matrix | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Taste vectors and collection sizes of the given user rows (:func:`.taste.taste_vectors`).

    Args:
        collections: Collections of (at least) ``users``.
        genre_weights: ``(n_releases, 15)`` genre weights of the release rows.
        users: User rows.
        activity: ``(len(users), n_releases)`` their recent activity (see
            :data:`LoadActivity`), if any; a release both owned and played counts once.
        credits: Artists and labels of the release rows (:attr:`ReleaseFeatures.credits`).

    Returns:
        ``(len(users), 15)`` unit tastes (zero rows for users with neither releases nor
        activity) and the collection sizes.

    """
    owner, at = expand_rows(collections.indptr, users)
    releases = collections.indices[at]
    sizes = collections.indptr[users + 1] - collections.indptr[users]
    if activity is not None:
        active = sp.coo_matrix(activity)
        played = active.data != 0
        mine = Collections.from_pairs(
            np.concatenate([owner, active.row[played]]),
            np.concatenate([releases, active.col[played]]),
            len(users),
            collections.n_releases,
        )
        owner, releases = np.repeat(np.arange(len(users)), mine.sizes()), mine.indices
    return taste_vectors(owner, releases, genre_weights, len(users), credits), sizes


def ranked_lists(
    collections: Collections,
    features: ReleaseFeatures,
    taste: np.ndarray,
    top_genre: np.ndarray,
    nearest: tuple[np.ndarray, np.ndarray],
    users: np.ndarray,
    n: int,
    fallback_lists: tuple[np.ndarray, list[np.ndarray]],
) -> Ranked:
    """The ranked top-n of some users, short lists filled with popular releases.

    Candidates are the releases the users' neighbours own (:func:`.recommend.rank_candidates`);
    short lists are filled with the most popular releases of the user's top genre, then
    overall (score 0).

    Args:
        collections: Collections of (at least) ``users`` and their neighbours.
        features: Release weights, owners and trending.
        taste: ``(n_users, 15)`` taste vectors of everyone.
        top_genre: Top genre index of every user (-1 when unknown).
        nearest: ``(len(users), k)`` neighbour rows (-1 for none) and their similarities.
        users: Sorted user rows to recommend for.
        n: List length.
        fallback_lists: The releases' :func:`.recommend.popular_by_genre` lists.

    Returns:
        The ``(len(users), n)`` ranked lists.

    """
    ranked = rank_candidates(collections, users, *nearest, taste, features, n=n)
    short = np.flatnonzero(ranked.releases[:, -1] < 0)
    for row in short.tolist():
        user = int(users[row])
        have = ranked.releases[row][ranked.releases[row] >= 0]
        top = int(top_genre[user]) if top_genre[user] >= 0 else None
        extra = fallback(collections, user, top, fallback_lists, have, n - len(have))
        ranked.releases[row, len(have) : len(have) + len(extra)] = extra
        ranked.scores[row, len(have) : len(have) + len(extra)] = 0.0
    return ranked


def recommend_for(
    collections: Collections,
    features: ReleaseFeatures,
    taste: np.ndarray,
    top_genre: np.ndarray,
    neighbours: Neighbours,
    users: np.ndarray,
    tuning: ScoringSettings,
    *,
    lists: bool = True,
) -> tuple[np.ndarray, Ranked]:
    """Friend-rule release and ranked top-n (:func:`ranked_lists`) for some users.

    Args:
        collections: Collections of (at least) ``users`` and their neighbours.
        features: Release weights, owners and trending.
        taste: ``(n_users, 15)`` taste vectors of everyone.
        top_genre: Top genre index of every user (-1 when unknown).
        neighbours: Neighbours of (at least) ``users``.
        users: Sorted user rows to recommend for.
        tuning: List length and fallback depth.
        lists: Rank every user's list; False ranks only the users whose friend rule finds no
            release (the hourly job lists with the hybrid).

    Returns:
        The friend-rule release row of every user row (-1 outside ``users`` or when none) and the
        ranked lists of ``users`` (of the users without a friend-rule release when not
        ``lists``); the friend rule falls back to the top of the list.

    """
    friend = np.full(collections.n_users, -1, dtype=np.int64)
    friend[users] = neighbours.friend[users]
    friend_release = most_owned_unowned(collections, friend, features.owners)
    missing = users[friend_release[users] < 0]
    ranked_users = users if lists else missing
    fallback = popular_by_genre(features.popularity, features.genre_weights, tuning.fallback_depth)
    nearest = (neighbours.ids[ranked_users], neighbours.sims[ranked_users])
    ranked = ranked_lists(
        collections, features, taste, top_genre, nearest, ranked_users, tuning.list_length, fallback
    )
    friend_release[missing] = ranked.releases[np.searchsorted(ranked_users, missing), 0]
    return friend_release, ranked


def affected_users(
    friend: np.ndarray,
    friend_similarity: np.ndarray,
    changed: np.ndarray,
    neighbours_of_changed: Neighbours,
    sizes: np.ndarray,
    prior: float,
) -> np.ndarray:
    """Users whose friend or neighbour list may differ after ``changed`` users' tastes moved.

    These are the changed users, the users whose friend is a changed user, and the users near a
    changed user's new taste whose friend it would now be: its similarity weighted by its
    reliability (:func:`.friends.reliable_first`, the friend rule) beats the stored friend's.

    Args:
        friend: Stored friend row of every user (-1 for none).
        friend_similarity: Stored similarity to that friend (nan for none).
        changed: Rows whose taste was recomputed.
        neighbours_of_changed: Fresh neighbours of the changed rows.
        sizes: Collection size of every user row, after this run.
        prior: The friend rule's pseudo-count (``scoring.friend_prior``).

    Returns:
        Sorted user rows.

    """
    friend_moved = np.flatnonzero(np.isin(friend, changed))
    ids = neighbours_of_changed.ids[changed]
    sims = neighbours_of_changed.sims[changed]
    has = ids >= 0
    near = ids[has]
    candidate = sims[has] * np.repeat(reliability(sizes[changed], prior), has.sum(axis=1))
    stored = friend[near]
    held = friend_similarity[near] * reliability(sizes[np.maximum(stored, 0)], prior)
    closer = near[~(candidate <= held)]
    return np.unique(np.concatenate([changed, friend_moved, closer]))


def score(
    features: ReleaseFeatures,
    state: UserState,
    changed: np.ndarray,
    load: LoadCollections,
    *,
    tuning: ScoringSettings | None = None,
    full: bool = False,
    activity: LoadActivity | None = None,
    step: StepTimer | None = None,
    earlier_index: VectorIndex | None = None,
    lists: bool = True,
) -> Scores:
    """Score the users whose collections changed, and whoever that affects.

    Tastes (collections and recent activity) are recomputed for the ``changed`` rows and the
    rows never scored (every row when ``full`` or when nothing was scored yet); ranks for
    everyone (a sort per genre). An HNSW index over all tastes (the last run's, extended with
    the new ones, when given) finds the neighbours of the affected users
    (:func:`affected_users`), who then get a new friend and recommendations; recall@1 is
    checked against exact search.

    Args:
        features: The release rows.
        state: What the previous run stored (:meth:`UserState.unscored` for none).
        changed: Sorted rows of the users staged as changed.
        load: Fetches collections: once for the rows whose taste is recomputed, once more
            for the affected rows and their neighbours unless the first load covered them.
        tuning: Neighbours per user, list length, HNSW parameters, recall sample.
        full: Rescore every user.
        activity: Reads the recent activity of the rows whose taste is recomputed (none
            when omitted).
        step: Times each step (and may log or record it).
        earlier_index: The last run's taste index, extended in place instead of building one
            (:class:`~.friends.TasteIndex`).
        lists: List every rescored user by the neighbour rule (:func:`recommend_for`); False
            lists no one (``listed`` empty), for a caller that lists with another ranker.

    Returns:
        The new scores.

    """
    step = step or StepTimer()
    tuning = tuning or ScoringSettings()
    k, recall_sample = tuning.neighbours, tuning.recall_sample
    n_users = len(state.scored)
    everyone = full or not state.scored.any()
    todo = np.arange(n_users) if everyone else np.union1d(changed, np.flatnonzero(~state.scored))
    with step("read_collections", len(todo)):
        collections = load(todo)
    played = None
    if activity is not None:
        with step("read_activity", len(todo)):
            played = activity(todo)
    with step("taste", len(todo)):
        taste, sizes = state.taste.copy(), state.sizes.copy()
        taste[todo], sizes[todo] = user_tastes(
            collections, features.genre_weights, todo, played, features.credits
        )
    with step("ranks", n_users):
        ranks = genre_percentiles(taste, has_taste(taste))
    with step("friends", n_users):
        index = TasteIndex(taste, tuning, earlier_index)
        if everyone:
            rescored = np.arange(n_users)
        else:
            near = index.neighbours(k, rows=todo)
            rescored = affected_users(
                state.friend, state.friend_similarity, todo, near, sizes, tuning.friend_prior
            )
        nearest = index.neighbours(k, rows=rescored)
        neighbours = reliable_first(nearest, sizes, tuning.friend_prior)
    with step("recall_check", min(recall_sample, len(rescored))):
        recall, sample = recall_at_1(taste, nearest.friend, recall_sample, rows=rescored)
    if not everyone:
        nbrs = neighbours.ids[rescored]
        needed = np.union1d(rescored, nbrs[nbrs >= 0])
        with step("read_neighbour_collections", len(needed)):
            collections = load(needed)
    top_genre = top_genres(taste)
    with step("recommendations", len(rescored)):
        friend_release, ranked = recommend_for(
            collections, features, taste, top_genre, neighbours, rescored, tuning, lists=lists
        )
    listed = rescored
    if not lists:
        listed, ranked = rescored[:0], Ranked(ranked.releases[:0], ranked.scores[:0])
    counts = {
        "users": n_users,
        "taste_recomputed": len(todo),
        "rescored": len(rescored),
        "cold_start": int(np.count_nonzero(sizes[rescored] == 0)),
        "index_rebuilt": int(index.rebuilt),
    }
    return Scores(
        taste,
        sizes,
        top_genre,
        ranks,
        rescored,
        neighbours,
        friend_release,
        ranked,
        listed,
        recall,
        sample,
        index,
        counts,
    )
