"""Content-based: a mixture over the user's genres, styles, artists and labels, times the era."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import (
    ItemContent,
    ScoreRanker,
    TrainData,
    binarise,
    row_stochastic,
)
from spark_jobs.scoring.rankers.era import EraModel

LOYALTY_BLOCKS = ("artist", "label")
"""Blocks whose counts are discounted: one release of an artist is weak evidence of loyalty."""


def members(features: sp.csr_matrix, popularity: np.ndarray) -> sp.csr_matrix:
    """``(features, items)``: each item's popularity under each feature it has (else 0).

    Args:
        features: ``(items, features)``; any non-zero counts as having the feature.
        popularity: ``(items,)`` positive popularity.

    """
    has = sp.csr_matrix(features, dtype=np.float32)
    has.data[:] = 1.0
    return sp.csr_matrix(sp.diags(popularity.astype(np.float32)) @ has).T.tocsr()


def discounted_shares(counts: sp.csr_matrix, discount: float) -> sp.csr_matrix:
    """Each row's counts less ``discount`` (at least 0), as shares of the row's total."""
    kept = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    kept.data = np.maximum(kept.data - discount, 0.0)
    kept.eliminate_zeros()
    return row_stochastic(kept)


class ContentBased(ScoreRanker):
    """Content-based filtering as a mixture model over the items' features.

    A user's profile is, per block (genres, styles, artists, labels), the share of their items
    with each feature; artist and label counts are first lowered by ``discount``, so a single
    release of an artist says little and three say a lot. The user's next item comes from
    feature ``f`` with that share, and within ``f`` with probability
    ``popularity(x) * a(x) / Z_f``: its popularity (``owners + smoothing``) times the user's
    era affinity ``a`` for its decade (:class:`~.era.EraModel`), over the same sum for all the
    items of ``f``. So a favourite artist's thirty releases share that artist's weight among
    them, while a genre's weight is spread over thousands; and a feature whose releases lie
    outside the user's era is normalised by its little in-era mass, not left out. The blocks
    are summed by their weights.

    Items nobody owns in training still score (at ``smoothing``), so this is the only ranker
    that can list them. The items of a user's ``train.activity`` (views, plays, wants) join the
    profile at ``activity_weight`` each (at least 1 for a user with no items; with neither, the
    list is empty). Folding in ``user_items`` profiles those rows instead of the training rows.
    On the synthetic world (5 000 users, one seed) the era posterior, the per-feature
    normalisation and the discount lift Recall@10 from 0.249 to 0.261 over the same mixture
    with a smoothed share of decades as the era.

    Args:
        genre: Weight of the genre block.
        style: Weight of the style block.
        artist: Weight of the artist block.
        label: Weight of the label block.
        discount: Subtracted from each artist and label count of a profile.
        smoothing: Added to every item's owner count to make its popularity.
        activity_weight: Weight of an activity item in the profile relative to an owned one.

    """

    name = "content"
    needs_content = True

    def __init__(
        self,
        genre: float = 0.2,
        style: float = 1.0,
        artist: float = 1.0,
        label: float = 0.5,
        discount: float = 0.5,
        smoothing: float = 0.3,
        activity_weight: float = 1.0,
    ) -> None:
        self.weights = {"genre": genre, "style": style, "artist": artist, "label": label}
        self.discount = discount
        self.smoothing = smoothing
        self.activity_weight = activity_weight

    def _fit(self, train: TrainData) -> None:
        content: ItemContent = train.require_content(self.name)
        popularity = train.owners() + self.smoothing
        blocks = {
            "genre": content.genres,
            "style": content.styles,
            "artist": content.artists,
            "label": content.labels,
        }
        self.features = {b: m for b, m in blocks.items() if self.weights[b]}
        self.members = {b: members(m, popularity) for b, m in self.features.items()}
        self.item_members = {b: m.T.tocsr() for b, m in self.members.items()}
        self.weighted_members = sp.vstack(
            [self.weights[b] * m for b, m in self.members.items()], format="csr"
        )
        self.era = EraModel.fit(content.decades, popularity)
        self.item_slots = self.era.slot_matrix()
        self.slot_mass = {
            b: np.asarray((m @ self.item_slots).todense(), dtype=np.float64)
            for b, m in self.members.items()
        }
        self.activity = None if train.activity is None else binarise(train.activity)

    def profile(self, users: np.ndarray, rows: sp.csr_matrix) -> sp.csr_matrix:
        """The users' items, their activity joined at its weight."""
        source = binarise(rows)
        if self.activity is None:
            return source
        empty = (np.diff(source.indptr) == 0).astype(np.float32)
        weight = np.maximum(empty, self.activity_weight)
        return sp.csr_matrix(source + sp.diags(weight) @ self.activity[users])

    def mixture(
        self, users: np.ndarray, rows: sp.csr_matrix
    ) -> tuple[np.ndarray, dict[str, sp.csr_matrix]]:
        """The users' era affinity per slot and, per block, their feature shares over ``Z_f``."""
        source = self.profile(users, rows)
        affinity = self.era.affinity(np.asarray((source @ self.item_slots).todense()))
        weights = {}
        for name, features in self.features.items():
            discount = self.discount if name in LOYALTY_BLOCKS else 0.0
            shares = discounted_shares(sp.csr_matrix(source @ features), discount).tocoo()
            norm = np.einsum("ij,ij->i", self.slot_mass[name][shares.col], affinity[shares.row])
            weights[name] = sp.csr_matrix(
                (shares.data / np.maximum(norm, 1e-300), (shares.row, shares.col)),
                shape=shares.shape,
                dtype=np.float32,
            )
        return affinity, weights

    def scores(self, users: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        """``P(item)`` under the user's mixture of features and era."""
        affinity, weights = self.mixture(users, rows)
        shares = sp.hstack([weights[name] for name in self.members], format="csr")
        block = sp.csr_matrix(shares @ self.weighted_members).toarray()
        block *= affinity[:, self.era.slots].astype(np.float32)
        return block

    def pair_features(
        self, users: np.ndarray, rows: sp.csr_matrix, positions: np.ndarray, items: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The parts of :meth:`scores` for given (user, item) pairs, without scoring every item.

        Args:
            users: User rows.
            rows: Their item rows.
            positions: Each pair's position in ``users``.
            items: Each pair's item row.

        Returns:
            Per block (``content_<block>``) the pair's share-weighted popularity before the era,
            and ``content_era``: the user's era affinity for the item's decade. The score is
            the block weights' sum of the former times the latter.

        """
        affinity, weights = self.mixture(users, rows)
        parts = {}
        for name, shares in weights.items():
            item_side = self.item_members[name][items].tocoo()
            values = np.asarray(shares[positions[item_side.row], item_side.col]).ravel()
            parts[f"content_{name}"] = np.bincount(
                item_side.row, values * item_side.data, minlength=len(items)
            )
        parts["content_era"] = affinity[positions, self.era.slots[items]]
        return parts
