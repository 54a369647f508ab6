"""Hidden tastes: a sparse Dirichlet over the 15 genres and, within each, a few styles.

Each user picks 1-3 genres (popular genres more often), weighted by a Dirichlet draw, and within
each genre up to three styles plus an "any style" share, again Dirichlet-weighted. The result is
a small table of weighted "atoms" per user, each atom a bucket of the :class:`ReleaseSampler`, so
drawing the buckets of a million events is one vectorised comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from discorecs.genres import GENRES
from kafka_producers.sampler import ReleaseSampler

GENRE_COUNT_P = (0.4, 0.4, 0.2)
"""Probability that a user likes 1, 2 or 3 genres."""


@dataclass(frozen=True)
class Tastes:
    """The hidden tastes of a population of users (row ``i`` is the ``i``-th user).

    Attributes:
        genre_weights: ``(users, 15)`` taste over genres, rows sum to 1, mostly zeros.
        atom_bucket: ``(users, atoms)`` sampler bucket of each taste atom.
        atom_weight: ``(users, atoms)`` weight of each atom, rows sum to 1.

    """

    genre_weights: np.ndarray
    atom_bucket: np.ndarray
    atom_weight: np.ndarray

    def __post_init__(self) -> None:
        cumulative = np.cumsum(self.atom_weight, axis=1)
        object.__setattr__(self, "_cumulative", cumulative / cumulative[:, -1:])

    def __len__(self) -> int:
        """Return the number of users."""
        return len(self.genre_weights)

    def top_genres(self) -> np.ndarray:
        """Return each user's strongest genre index."""
        return np.argmax(self.genre_weights, axis=1)

    def draw_buckets(self, users: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """Draw one sampler bucket per event from its user's taste.

        Args:
            users: User row per event.
            uniforms: One uniform ``[0, 1)`` number per event.

        Returns:
            Bucket ids, one per event.

        """
        cumulative = self._cumulative[users]  # type: ignore[attr-defined]
        atom = np.minimum((cumulative < uniforms[:, None]).sum(axis=1), cumulative.shape[1] - 1)
        return self.atom_bucket[users, atom]

    def describe(self, user: int, sampler: ReleaseSampler) -> dict[str, Any]:
        """Return one user's taste as JSON-ready dicts (for the ground-truth file).

        Args:
            user: User row.
            sampler: The sampler whose buckets the atoms refer to.

        Returns:
            ``{"genres": {genre: weight}, "atoms": {"Genre" or "Genre/Style": weight}}``.

        """
        genres = {
            GENRES[g]: round(float(w), 6) for g, w in enumerate(self.genre_weights[user]) if w
        }
        atoms: dict[str, float] = {}
        for bucket, weight in zip(self.atom_bucket[user], self.atom_weight[user], strict=True):
            if weight > 0:
                name = sampler.bucket_name(int(bucket))
                atoms[name] = round(atoms.get(name, 0.0) + float(weight), 6)
        return {"genres": genres, "atoms": atoms}


def draw_tastes(
    n_users: int,
    sampler: ReleaseSampler,
    rng: np.random.Generator,
    *,
    styles_per_genre: int = 3,
    alpha: float = 1.0,
) -> Tastes:
    """Draw the hidden tastes of ``n_users`` users.

    Args:
        n_users: Population size.
        sampler: Buckets to aim the tastes at.
        rng: Seeded generator.
        styles_per_genre: Style atoms per liked genre (drawn by popularity, with replacement).
        alpha: Dirichlet concentration of genre and style weights.

    Returns:
        The tastes.

    """
    n_genres = len(GENRES)
    genre_mass = sampler.bucket_mass[:n_genres]
    available = int((genre_mass > 0).sum())
    slots = len(GENRE_COUNT_P)
    counts = np.minimum(
        rng.choice(np.arange(1, slots + 1), size=n_users, p=GENRE_COUNT_P), available
    )

    with np.errstate(divide="ignore"):
        logits = 0.5 * np.log(genre_mass)
    keys = logits[None, :] + rng.gumbel(size=(n_users, n_genres))
    chosen = np.argsort(-keys, axis=1)[:, :slots]
    slot_weights = rng.gamma(alpha, size=(n_users, slots))
    slot_weights[np.arange(slots)[None, :] >= counts[:, None]] = 0.0
    slot_weights /= slot_weights.sum(axis=1, keepdims=True)

    genre_weights = np.zeros((n_users, n_genres))
    np.put_along_axis(genre_weights, chosen, slot_weights, axis=1)

    per_slot = styles_per_genre + 1
    buckets = np.repeat(chosen[:, :, None], per_slot, axis=2).astype(np.int64)
    within = rng.gamma(alpha, size=(n_users, slots, per_slot))
    uniforms = rng.random((n_users, slots, styles_per_genre))
    for genre in range(n_genres):
        style_buckets, masses = sampler.genre_styles(genre)
        mask = chosen == genre
        if not mask.any():
            continue
        if len(style_buckets) == 0:
            within[mask, 1:] = 0.0
            continue
        cumulative = np.cumsum(masses) / masses.sum()
        picks = np.searchsorted(cumulative, uniforms[mask], side="right")
        buckets[mask, 1:] = style_buckets[np.minimum(picks, len(style_buckets) - 1)]
    within /= within.sum(axis=2, keepdims=True)
    atom_weight = (slot_weights[:, :, None] * within).reshape(n_users, slots * per_slot)
    return Tastes(genre_weights, buckets.reshape(n_users, slots * per_slot), atom_weight)
