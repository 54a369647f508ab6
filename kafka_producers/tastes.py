"""Hidden tastes: genres and styles, an era, and loyalty to a few artists and labels.

Every parameter of the synthetic world's taste model is a constant below, so the world a
recommender is measured on is documented in one place:

- **Genres** (:data:`GENRE_COUNT_P`, :data:`GENRE_POPULARITY_TILT`, ``alpha``): each user likes
  1-3 genres, popular genres more often, weighted by a Dirichlet draw; within each liked genre
  up to :data:`STYLES_PER_GENRE` styles plus an "any style" share, again Dirichlet-weighted.
- **Era** (:data:`DECADE_SPREAD`, :data:`UNKNOWN_YEAR_AFFINITY`): a favourite decade, drawn in
  proportion to the catalogue's popularity mass per decade, and a spread; the affinity for a
  decade ``k`` decades away is ``exp(-k / spread)`` (releases of unknown year get a fixed
  affinity). Every draw, whatever its atom, weighs the decade cells of its bucket by this
  affinity (see :class:`~kafka_producers.sampler.ReleaseSampler`).
- **Loyalty** (:data:`LOYAL_ARTISTS`, :data:`LOYAL_LABELS`, :data:`LOYALTY_BETA`,
  :data:`ARTIST_SHARE`): a share of each user's draws (Beta-distributed, mean 1/3) goes to a few
  favourite artists and labels, found by drawing releases from the user's own genre atoms, so
  loyalties agree with the genres.

The result is a small table of weighted "atoms" per user, each a sampler bucket, plus a decade
affinity row, so drawing the buckets of a million events stays one vectorised comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from discorecs.core.genres import GENRES
from kafka_producers.sampler import ReleaseSampler

GENRE_COUNT_P = (0.4, 0.4, 0.2)
"""Probability that a user likes 1, 2 or 3 genres."""
GENRE_POPULARITY_TILT = 0.5
"""Genres are chosen with log-weights ``tilt * log(genre mass)``: popular genres more often."""
STYLES_PER_GENRE = 3
"""Style atoms per liked genre (drawn by popularity, with replacement)."""
DECADE_SPREAD = (0.5, 2.0)
"""Range of the per-user spread (in decades) of the era affinity, drawn uniformly."""
UNKNOWN_YEAR_AFFINITY = 0.3
"""Affinity of every user for releases whose year is unknown."""
LOYAL_ARTISTS = 3
"""Favourite artists per user."""
LOYAL_LABELS = 2
"""Favourite labels per user."""
LOYALTY_BETA = (2.0, 4.0)
"""Beta parameters of the share of a user's draws that go to favourite artists and labels."""
ARTIST_SHARE = 0.6
"""Scale of each favourite artist's atom, a label's being ``1 - ARTIST_SHARE``, before the
loyalty share is split by the normalised (gamma-drawn) weights: with 3 artists and 2 labels,
artists get about 0.68 of it on average, labels the rest."""


@dataclass(frozen=True)
class Tastes:
    """The hidden tastes of a population of users (row ``i`` is the ``i``-th user).

    Attributes:
        genre_weights: ``(users, 15)`` taste over genres, rows sum to 1, mostly zeros.
        atom_bucket: ``(users, atoms)`` sampler bucket of each taste atom.
        atom_weight: ``(users, atoms)`` weight of each atom, rows sum to 1.
        decade_affinity: ``(users, n_slots)`` affinity for each decade slot of the sampler.
        favourite_slot: Each user's favourite decade slot.
        decade_spread: Each user's era spread, in decades.
        loyalty: Each user's share of draws aimed at favourite artists and labels.

    """

    genre_weights: np.ndarray
    atom_bucket: np.ndarray
    atom_weight: np.ndarray
    decade_affinity: np.ndarray
    favourite_slot: np.ndarray
    decade_spread: np.ndarray
    loyalty: np.ndarray
    _cumulative: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        cumulative = np.cumsum(self.atom_weight, axis=1)
        object.__setattr__(self, "_cumulative", cumulative / cumulative[:, -1:])

    def __len__(self) -> int:
        """Return the number of users."""
        return len(self.genre_weights)

    def draw_buckets(self, users: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """Draw one sampler bucket per event from its user's taste.

        Args:
            users: User row per event.
            uniforms: One uniform ``[0, 1)`` number per event.

        Returns:
            Bucket ids, one per event.

        """
        cumulative = self._cumulative[users]
        atom = np.minimum((cumulative < uniforms[:, None]).sum(axis=1), cumulative.shape[1] - 1)
        return self.atom_bucket[users, atom]

    def describe(self, user: int, sampler: ReleaseSampler) -> dict[str, Any]:
        """Return one user's taste as JSON-ready dicts (for the ground-truth file).

        Args:
            user: User row.
            sampler: The sampler whose buckets the atoms refer to.

        Returns:
            ``genres`` (genre -> weight), ``atoms`` (``"Genre"``, ``"Genre/Style"``,
            ``"artist:Name"`` or ``"label:Name"`` -> weight), ``decade`` (favourite decade
            such as ``"1980s"``, and the spread) and ``loyalty``.

        """
        genres = {
            GENRES[g]: round(float(w), 6) for g, w in enumerate(self.genre_weights[user]) if w
        }
        atoms: dict[str, float] = {}
        for bucket, weight in zip(self.atom_bucket[user], self.atom_weight[user], strict=True):
            if weight > 0:
                name = sampler.bucket_name(int(bucket))
                atoms[name] = round(atoms.get(name, 0.0) + float(weight), 6)
        slot = int(self.favourite_slot[user])
        favourite = f"{int(sampler.decades[slot]) * 10}s" if slot < len(sampler.decades) else None
        return {
            "genres": genres,
            "atoms": atoms,
            "decade": {"favourite": favourite, "spread": round(float(self.decade_spread[user]), 4)},
            "loyalty": round(float(self.loyalty[user]), 6),
        }


def _genre_atoms(
    n_users: int, sampler: ReleaseSampler, rng: np.random.Generator, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Genre weights, and the genre/style atoms' buckets and weights (rows sum to 1)."""
    n_genres = len(GENRES)
    genre_mass = sampler.bucket_mass[:n_genres]
    available = int((genre_mass > 0).sum())
    slots = len(GENRE_COUNT_P)
    counts = np.minimum(
        rng.choice(np.arange(1, slots + 1), size=n_users, p=GENRE_COUNT_P), available
    )
    with np.errstate(divide="ignore"):
        logits = GENRE_POPULARITY_TILT * np.log(genre_mass)
    keys = logits[None, :] + rng.gumbel(size=(n_users, n_genres))
    chosen = np.argsort(-keys, axis=1)[:, :slots]
    slot_weights = rng.gamma(alpha, size=(n_users, slots))
    slot_weights[np.arange(slots)[None, :] >= counts[:, None]] = 0.0
    slot_weights /= slot_weights.sum(axis=1, keepdims=True)
    genre_weights = np.zeros((n_users, n_genres))
    np.put_along_axis(genre_weights, chosen, slot_weights, axis=1)

    per_slot = STYLES_PER_GENRE + 1
    buckets = np.repeat(chosen[:, :, None], per_slot, axis=2).astype(np.int64)
    within = rng.gamma(alpha, size=(n_users, slots, per_slot))
    uniforms = rng.random((n_users, slots, STYLES_PER_GENRE))
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
    weights = (slot_weights[:, :, None] * within).reshape(n_users, slots * per_slot)
    return genre_weights, buckets.reshape(n_users, slots * per_slot), weights


def _eras(
    n_users: int, sampler: ReleaseSampler, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Favourite decade slot, spread and the affinity row of every user."""
    known = len(sampler.decades)
    affinity = np.full((n_users, sampler.n_slots), UNKNOWN_YEAR_AFFINITY)
    spread = rng.uniform(*DECADE_SPREAD, size=n_users)
    if known == 0:
        return np.full(n_users, known), spread, affinity
    decade_mass = np.bincount(sampler.release_slot, sampler.popularity, minlength=sampler.n_slots)[
        :known
    ]
    favourite = rng.choice(known, size=n_users, p=decade_mass / decade_mass.sum())
    distance = np.abs(sampler.decades[None, :] - sampler.decades[favourite][:, None])
    affinity[:, :known] = np.exp(-distance / spread[:, None])
    return favourite, spread, affinity


def _loyalty_atoms(
    sampler: ReleaseSampler,
    rng: np.random.Generator,
    genre_buckets: np.ndarray,
    genre_atom_weights: np.ndarray,
    affinity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Favourite artist and label buckets of each user, found through their own genre atoms.

    Returns:
        ``(users, LOYAL_ARTISTS + LOYAL_LABELS)`` buckets and 0/1 presence (a release drawn
        without artist or label leaves its atom empty).

    """
    n_users = len(genre_buckets)
    picks = LOYAL_ARTISTS + LOYAL_LABELS
    cumulative = np.cumsum(genre_atom_weights, axis=1)
    users = np.repeat(np.arange(n_users), picks)
    atom = (cumulative[users] < rng.random(len(users))[:, None]).sum(axis=1)
    buckets = genre_buckets[users, np.minimum(atom, genre_buckets.shape[1] - 1)]
    releases = sampler.draw(
        buckets, affinity[users], rng.random(len(users)), rng.random(len(users))
    )
    catalog = sampler.catalog
    is_artist = np.tile(np.arange(picks) < LOYAL_ARTISTS, n_users)
    tags = np.zeros(len(users), dtype=np.int64)
    found = np.zeros(len(users), dtype=bool)
    for kind, offset, mask in (
        (catalog.artists, sampler.artist_bucket0, is_artist),
        (catalog.labels, sampler.label_bucket0, ~is_artist),
    ):
        counts = kind.counts()[releases[mask]]
        pick = (rng.random(int(mask.sum())) * np.maximum(counts, 1)).astype(np.int64)
        has = counts > 0
        index = kind.ptr[releases[mask]] + np.where(has, pick, 0)
        known = kind.idx[np.minimum(index, len(kind.idx) - 1)] if len(kind.idx) else index
        tag = np.where(has, known, 0)  # a catalogue without any artist (label): none found
        tags[mask] = tag + offset
        found[mask] = has
    return tags.reshape(n_users, picks), found.reshape(n_users, picks)


def draw_tastes(
    n_users: int, sampler: ReleaseSampler, rng: np.random.Generator, *, alpha: float = 1.0
) -> Tastes:
    """Draw the hidden tastes of ``n_users`` users (see the module docstring for the model).

    Args:
        n_users: Population size.
        sampler: Buckets to aim the tastes at.
        rng: Seeded generator.
        alpha: Dirichlet concentration of genre and style weights.

    Returns:
        The tastes.

    """
    genre_weights, genre_buckets, genre_atom_weights = _genre_atoms(n_users, sampler, rng, alpha)
    favourite, spread, affinity = _eras(n_users, sampler, rng)
    loyal_buckets, found = _loyalty_atoms(sampler, rng, genre_buckets, genre_atom_weights, affinity)
    loyalty = rng.beta(*LOYALTY_BETA, size=n_users)
    shares = np.where(np.arange(found.shape[1]) < LOYAL_ARTISTS, ARTIST_SHARE, 1 - ARTIST_SHARE)
    loyal_weights = rng.gamma(1.0, size=found.shape) * found * shares[None, :]
    totals = loyal_weights.sum(axis=1, keepdims=True)
    loyal_weights = np.divide(
        loyal_weights, totals, out=np.zeros_like(loyal_weights), where=totals > 0
    )
    loyalty = np.where(totals[:, 0] > 0, loyalty, 0.0)
    atom_weight = np.hstack(
        [genre_atom_weights * (1 - loyalty)[:, None], loyal_weights * loyalty[:, None]]
    )
    atom_bucket = np.hstack([genre_buckets, loyal_buckets])
    return Tastes(genre_weights, atom_bucket, atom_weight, affinity, favourite, spread, loyalty)
