"""Content-based: items like the user's own by genre, style, decade, artist and label."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import ItemContent, ScoreRanker, TrainData, binarise


def unit_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit L2 length (zero rows stay zero), float32 CSR."""
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale) @ matrix, dtype=np.float32)


def decade_matrix(decades: np.ndarray, spread: float) -> sp.csr_matrix:
    """One column per decade from the earliest to the latest known one.

    An item has 1 in its decade and ``spread`` in the decades either side; unknown (-1)
    decades give an empty row.
    """
    known = np.flatnonzero(decades >= 0)
    first = int(decades[known].min()) if len(known) else 0
    width = int(decades[known].max()) - first + 1 if len(known) else 1
    rows, columns, values = [], [], []
    for offset, value in ((0, 1.0), (-1, spread), (1, spread)):
        column = decades[known] - first + offset
        inside = (column >= 0) & (column < width)
        rows.append(known[inside])
        columns.append(column[inside])
        values.append(np.full(int(inside.sum()), value, dtype=np.float32))
    return sp.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
        shape=(len(decades), width),
    )


class ContentBased(ScoreRanker):
    """Content-based filtering with a popularity prior.

    Each item is described by five blocks: genres, styles, decade (one-hot, with
    ``decade_spread`` in the neighbouring decades), artists and labels, each L2-normalised per
    item. A user's profile is the sum of their items' descriptions; an item's score is
    ``sum over blocks of weight * (profile block . item block)``, times the prior
    ``(1 + owners) ** gamma``. Items nobody owns in training still score by their content, so
    this is the only ranker that can list them. The items of a user's ``train.activity``
    (views, plays, wants) join the profile at ``activity_weight`` each (at least 1 for a user
    with no items; with neither, the list is empty): on the synthetic world, where activity
    follows the same hidden taste as the adds, weight 1 raises this ranker's Recall@10 from
    0.21 to 0.24 and its cold-start Recall@10 from 0.29 to 0.45 (6 000 users, one seed).
    Folding in ``user_items`` profiles those rows instead of the training rows.

    Args:
        genre: Weight of the genre block.
        style: Weight of the style block.
        decade: Weight of the decade block.
        artist: Weight of the artist block.
        label: Weight of the label block.
        decade_spread: Weight of the neighbouring decades in an item's decade block.
        gamma: Exponent of the popularity prior (0: none).
        activity_weight: Weight of an activity item in the profile relative to an owned one.

    """

    name = "content"
    needs_content = True

    def __init__(
        self,
        genre: float = 1.0,
        style: float = 1.0,
        decade: float = 0.5,
        artist: float = 2.0,
        label: float = 0.5,
        decade_spread: float = 0.5,
        gamma: float = 0.3,
        activity_weight: float = 1.0,
    ) -> None:
        self.weights = {
            "genre": genre,
            "style": style,
            "decade": decade,
            "artist": artist,
            "label": label,
        }
        self.decade_spread = decade_spread
        self.gamma = gamma
        self.activity_weight = activity_weight

    def _blocks(self, content: ItemContent) -> dict[str, sp.csr_matrix]:
        """The unit-row feature blocks by name."""
        return {
            "genre": unit_rows(content.genres),
            "style": unit_rows(content.styles),
            "decade": unit_rows(decade_matrix(content.decades, self.decade_spread)),
            "artist": unit_rows(content.artists),
            "label": unit_rows(content.labels),
        }

    def _fit(self, train: TrainData) -> None:
        blocks = self._blocks(train.require_content(self.name))
        # Genres and decades are shared by most items, so their part of the scores is dense:
        # a dense product is cheaper there; the other blocks stay sparse.
        dense, sparse = ("genre", "decade"), ("style", "artist", "label")
        self.dense = sp.hstack([blocks[b] for b in dense], format="csr").toarray()
        self.dense_weighted_t = np.ascontiguousarray(
            np.hstack([self.weights[b] * blocks[b].toarray() for b in dense]).T
        )
        self.sparse = sp.hstack([blocks[b] for b in sparse], format="csr")
        self.sparse_weighted_t = sp.hstack(
            [self.weights[b] * blocks[b] for b in sparse], format="csr"
        ).T.tocsr()
        self.prior = np.power(1.0 + train.owners(), self.gamma).astype(np.float32)
        self.activity = None if train.activity is None else binarise(train.activity)

    def scores(self, users: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        """Profile match times the popularity prior."""
        source = binarise(rows)
        if self.activity is not None:
            empty = (np.diff(source.indptr) == 0).astype(np.float32)
            weight = np.maximum(empty, self.activity_weight)
            source = sp.csr_matrix(source + sp.diags(weight) @ self.activity[users])
        block = np.asarray(source @ self.dense, dtype=np.float32) @ self.dense_weighted_t
        block += sp.csr_matrix(
            sp.csr_matrix(source @ self.sparse) @ self.sparse_weighted_t
        ).toarray()
        block *= self.prior
        return block
