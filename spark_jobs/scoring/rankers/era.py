"""A collector's era: the posterior over a favourite decade and a spread, from their decades.

Collectors favour an era. The model: a user with favourite decade ``f`` and spread ``w`` has
affinity ``a(s) = exp(-|s - f| / w)`` for a release of decade ``s`` (a fixed
:data:`UNKNOWN_AFFINITY` for a release of unknown year), and collects a release in proportion
to its popularity times that affinity. So a user's count ``c_s`` of items per decade slot has
the likelihood ``prod_s (a(s) / Z) ** c_s``, with ``Z = sum_s m_s a(s)`` and ``m_s`` the
popularity share of slot ``s``. Over a grid of hypotheses (every known decade as favourite,
each of :data:`SPREADS`), with a prior on the favourite proportional to its decade's share
(popular eras are more often someone's favourite), the posterior mean of ``a`` is the user's era
affinity: broad for a user with two items, narrow for one with forty from the same decade.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

SPREADS = (0.5, 0.75, 1.0, 1.5, 2.0)
"""Spreads (in decades) of the era hypotheses."""
UNKNOWN_AFFINITY = 0.3
"""Affinity of every hypothesis for releases of unknown year (the favourite decade has 1)."""


def decade_slots(decades: np.ndarray) -> tuple[np.ndarray, int]:
    """Each item's era slot: known decades from the earliest one on, unknown (-1) the last slot.

    Returns:
        The slot of each item, and the number of slots (known decades spanned, plus one).

    """
    known = decades >= 0
    if not known.any():
        return np.zeros(len(decades), dtype=np.int64), 1
    first = int(decades[known].min())
    width = int(decades[known].max()) - first + 1
    return np.where(known, decades - first, width).astype(np.int64), width + 1


@dataclass(frozen=True)
class EraModel:
    """The era hypotheses of a catalogue, and each item's slot.

    Attributes:
        slots: ``(n_items,)`` era slot of each item.
        affinities: ``(hypotheses, n_slots)`` affinity of each hypothesis for each slot.
        log_prior: ``(hypotheses,)`` log prior of each hypothesis (unnormalised).
        log_norm: ``(hypotheses,)`` ``log Z``: the log of the popularity-weighted affinity.

    """

    slots: np.ndarray
    affinities: np.ndarray
    log_prior: np.ndarray
    log_norm: np.ndarray

    @classmethod
    def fit(
        cls,
        decades: np.ndarray,
        popularity: np.ndarray,
        spreads: tuple[float, ...] = SPREADS,
        unknown: float = UNKNOWN_AFFINITY,
    ) -> EraModel:
        """Build the hypotheses for a catalogue.

        Args:
            decades: ``(n_items,)`` decade index (``year // 10``), -1 when unknown.
            popularity: ``(n_items,)`` positive popularity.
            spreads: Spreads of the hypotheses, in decades.
            unknown: Affinity for releases of unknown year.

        """
        slots, n_slots = decade_slots(decades)
        mass = np.bincount(slots, popularity.astype(np.float64), minlength=n_slots)
        share = mass / max(mass.sum(), 1e-300)
        known = np.arange(n_slots - 1)
        if len(known) == 0:
            affinities = np.full((1, 1), unknown)
            log_prior = np.zeros(1)
        else:
            favourite = np.repeat(known, len(spreads))
            spread = np.tile(np.asarray(spreads, dtype=np.float64), len(known))
            affinities = np.full((len(favourite), n_slots), unknown)
            distance = np.abs(known[None, :] - favourite[:, None])
            affinities[:, :-1] = np.exp(-distance / spread[:, None])
            log_prior = np.log(np.maximum(share[favourite], 1e-300))
        return cls(slots, affinities, log_prior, np.log(affinities @ share))

    @property
    def n_slots(self) -> int:
        """Number of era slots."""
        return int(self.affinities.shape[1])

    def slot_matrix(self) -> sp.csr_matrix:
        """``(n_items, n_slots)`` 0/1: each item's slot."""
        items = len(self.slots)
        ones = np.ones(items, dtype=np.float32)
        return sp.csr_matrix((ones, (np.arange(items), self.slots)), shape=(items, self.n_slots))

    def affinity(self, counts: np.ndarray) -> np.ndarray:
        """Each user's posterior mean affinity per slot.

        Args:
            counts: ``(users, n_slots)`` the users' (weighted) item counts per slot.

        Returns:
            ``(users, n_slots)`` affinities; a user with no items gets the prior mean.

        """
        counts = np.asarray(counts, dtype=np.float64)
        log_posterior = (
            counts @ np.log(self.affinities.T)
            - counts.sum(axis=1, keepdims=True) * self.log_norm[None, :]
            + self.log_prior[None, :]
        )
        log_posterior -= log_posterior.max(axis=1, keepdims=True)
        posterior = np.exp(log_posterior)
        posterior /= posterior.sum(axis=1, keepdims=True)
        return posterior @ self.affinities
