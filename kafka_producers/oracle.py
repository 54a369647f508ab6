"""The best possible ranking of the synthetic world: by the probability of the hidden taste.

A user's next draw is release ``r`` with probability
``P(r) = pop(r) d(slot(r)) sum_a [r in b_a] w_a / Z_a`` (``Z_a = sum_s mass(b_a, s) d(s)``,
see :mod:`kafka_producers.sampler`). Ranking by ``P`` without the user's own releases is the
ceiling any recommender can reach on this world. Scoring all releases for every user is slow
(a genre bucket holds tens of thousands), so candidates are the most popular releases of each
of the user's (bucket, decade) cells, and the answer is checked exact: every release outside
the candidates scores at most ``max_s d(s) sum_a w_a / Z_a pop_next(b_a, s)`` (the popularity
just below each cell's candidates); when the n-th best candidate is not above that bound, the
cells are read deeper.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kafka_producers.sampler import ReleaseSampler
from kafka_producers.tastes import Tastes

FIRST_DEPTH = 32


def _atoms(tastes: Tastes, sampler: ReleaseSampler, user: int) -> tuple[np.ndarray, np.ndarray]:
    """The user's distinct buckets and their weights divided by the normaliser ``Z``."""
    weights = tastes.atom_weight[user]
    buckets, inverse = np.unique(tastes.atom_bucket[user][weights > 0], return_inverse=True)
    summed = np.bincount(inverse.reshape(-1), weights[weights > 0], minlength=len(buckets))
    norm = sampler.cell_mass[buckets] @ tastes.decade_affinity[user]
    return buckets, summed / np.maximum(norm, 1e-300)


def _scores(
    sampler: ReleaseSampler,
    buckets: np.ndarray,
    weights: np.ndarray,
    affinity: np.ndarray,
    releases: np.ndarray,
) -> np.ndarray:
    """``P(r)`` of each release (positions in the catalogue) for one user."""
    mixture = np.zeros(len(releases))
    for bucket, weight in zip(buckets.tolist(), weights.tolist(), strict=True):
        mixture += weight * sampler.in_bucket(bucket, releases)
    return sampler.popularity[releases] * affinity[sampler.release_slot[releases]] * mixture


def oracle_top(
    tastes: Tastes,
    sampler: ReleaseSampler,
    users: np.ndarray,
    exclude: Sequence[np.ndarray],
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` most probable next releases of each user, their own releases left out.

    Args:
        tastes: The hidden tastes.
        sampler: The sampler the tastes' atoms refer to.
        users: User rows.
        exclude: Per user, the release positions never to return (what they own).
        n: List length.

    Returns:
        ``(len(users), n)`` release positions and probabilities (-1 / nan padded), exact.

    """
    ids = np.full((len(users), n), -1, dtype=np.int64)
    scores = np.full((len(users), n), np.nan)
    slots = np.arange(sampler.n_slots)
    for row, user in enumerate(users.tolist()):
        buckets, weights = _atoms(tastes, sampler, user)
        affinity = tastes.decade_affinity[user]
        cells = (buckets[:, None] * sampler.n_slots + slots[None, :]).ravel()
        depth = FIRST_DEPTH
        while True:
            found, below = sampler.top_of_cells(cells, depth)
            candidates = np.setdiff1d(found, exclude[row])
            score = _scores(sampler, buckets, weights, affinity, candidates)
            order = np.lexsort((candidates, -score))[:n]
            bound = float(np.max(affinity * (weights @ below.reshape(len(buckets), -1))))
            if len(order) == n and score[order[-1]] >= bound or not below.any():
                break
            depth *= 4
        ids[row, : len(order)] = candidates[order]
        scores[row, : len(order)] = score[order]
    return ids, scores
