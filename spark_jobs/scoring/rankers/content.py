"""Content-based: a mixture over the user's genres, styles, artists and labels, then the era."""

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

AFFINITY_FLOOR = 1e-3
"""Added to the decade affinity, so a release of an unseen era is ranked down, not removed."""


def decade_matrix(decades: np.ndarray, spread: float) -> sp.csr_matrix:
    """One column per decade from the earliest to the latest known one, and one for unknown.

    An item of a known decade has 1 in its decade and ``spread`` in the decades either side;
    an item of unknown decade (-1) has 1 in the last column.
    """
    known = np.flatnonzero(decades >= 0)
    first = int(decades[known].min()) if len(known) else 0
    width = int(decades[known].max()) - first + 1 if len(known) else 0
    rows, columns, values = [], [], []
    for offset, value in ((0, 1.0), (-1, spread), (1, spread)):
        column = decades[known] - first + offset
        inside = (column >= 0) & (column < width)
        rows.append(known[inside])
        columns.append(column[inside])
        values.append(np.full(int(inside.sum()), value, dtype=np.float32))
    unknown = np.flatnonzero(decades < 0)
    rows.append(unknown)
    columns.append(np.full(len(unknown), width))
    values.append(np.ones(len(unknown), dtype=np.float32))
    return sp.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
        shape=(len(decades), width + 1),
    )


def within_feature(features: sp.csr_matrix, popularity: np.ndarray) -> sp.csr_matrix:
    """P(item | feature), ``(features, items)``: popularity over the feature's total.

    Args:
        features: ``(items, features)``; any non-zero counts as having the feature.
        popularity: ``(items,)`` positive popularity.

    """
    has = sp.csr_matrix(features, dtype=np.float32)
    has.data[:] = 1.0
    weighted = sp.csr_matrix(sp.diags(popularity.astype(np.float32)) @ has)
    mass = np.asarray(weighted.sum(axis=0)).ravel()
    scale = np.divide(1.0, mass, out=np.zeros_like(mass), where=mass > 0)
    return sp.csr_matrix(weighted @ sp.diags(scale), dtype=np.float32).T.tocsr()


class ContentBased(ScoreRanker):
    """Content-based filtering as a mixture model over the items' features.

    A user's profile is, per block (genres, styles, artists, labels), the share of their items
    with each feature; an item's score in a block is ``sum_f share(f) * P(item | f)``, where
    ``P(item | f)`` is the item's popularity (``owners + smoothing``) over the total of the
    items with feature ``f``. So a favourite artist's thirty releases share that artist's
    weight among them, while a genre's weight is spread over thousands: a small, loyal part of a
    collection reaches deep into its artist's catalogue, and a broad genre taste lists only that
    genre's popular releases. The blocks are summed by their weights, then multiplied by the
    user's era affinity to the power ``decade_power`` (the share of their items in the item's
    decade, ``decade_spread`` of a neighbouring one counted too, plus a small floor).

    Items nobody owns in training still score (at ``smoothing``), so this is the only ranker
    that can list them. The items of a user's ``train.activity`` (views, plays, wants) join the
    profile at ``activity_weight`` each (at least 1 for a user with no items; with neither, the
    list is empty). On the synthetic world (5 000 users, one seed) this model lifts Recall@10
    from 0.200 to 0.252 and item coverage from 5 % to 30 % over a summed-cosine profile with a
    ``owners ** 0.3`` prior, the model it replaced. Folding in ``user_items`` profiles those
    rows instead of the training rows.

    Args:
        genre: Weight of the genre block.
        style: Weight of the style block.
        artist: Weight of the artist block.
        label: Weight of the label block.
        decade_power: Exponent of the era affinity (0: the era is ignored).
        decade_spread: Weight of the neighbouring decades in an item's decade row.
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
        decade_power: float = 0.5,
        decade_spread: float = 0.5,
        smoothing: float = 1.0,
        activity_weight: float = 1.0,
    ) -> None:
        self.weights = {"genre": genre, "style": style, "artist": artist, "label": label}
        self.decade_power = decade_power
        self.decade_spread = decade_spread
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
        self.likelihood_t = {b: within_feature(m, popularity) for b, m in self.features.items()}
        self.decades = decade_matrix(content.decades, self.decade_spread)
        self.decades_t = self.decades.T.toarray()
        self.activity = None if train.activity is None else binarise(train.activity)

    def scores(self, users: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        """The weighted mixture of the blocks times the era affinity."""
        source = binarise(rows)
        if self.activity is not None:
            empty = (np.diff(source.indptr) == 0).astype(np.float32)
            weight = np.maximum(empty, self.activity_weight)
            source = sp.csr_matrix(source + sp.diags(weight) @ self.activity[users])
        block = np.zeros((len(users), self.train.n_items), dtype=np.float32)
        for name, features in self.features.items():
            shares = row_stochastic(source @ features)
            block += self.weights[name] * sp.csr_matrix(shares @ self.likelihood_t[name]).toarray()
        if self.decade_power:
            era = row_stochastic(source @ self.decades) @ self.decades_t
            block *= np.power(era + AFFINITY_FLOOR, self.decade_power, dtype=np.float32)
        return block
