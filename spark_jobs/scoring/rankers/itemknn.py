"""Item-based k-nearest-neighbours with shrunk cosine similarity."""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import ScoreRanker, TrainData, binarise
from spark_jobs.scoring.rankers.similarity import top_k_product

Weighting = Literal["none", "tfidf", "bm25"]


def weigh_users(items_users: sp.csr_matrix, weighting: Weighting) -> sp.csr_matrix:
    """Feature weighting of the ``(n_items, n_users)`` matrix, users as the terms.

    ``tfidf``: each entry times ``log(n_items / (1 + items of the user))``; ``bm25``: Okapi
    BM25 (k1 = 1.2, b = 0.75) with items as documents, as in Dacrema et al.'s ItemKNNCF.
    """
    if weighting == "none":
        return items_users
    weighted = items_users.tocoo(copy=True)
    n_items = weighted.shape[0]
    idf = np.log(n_items / (1.0 + np.bincount(weighted.col, minlength=weighted.shape[1])))
    if weighting == "tfidf":
        weighted.data = np.sqrt(weighted.data) * idf[weighted.col]
    else:
        length = np.bincount(weighted.row, weights=weighted.data, minlength=n_items)
        norm = 0.25 + 0.75 * length / max(float(length.mean()), 1e-12)
        tf = weighted.data * 2.2 / (1.2 * norm[weighted.row] + weighted.data)
        weighted.data = tf * idf[weighted.col]
    return sp.csr_matrix(weighted, dtype=np.float32)


class ItemKNN(ScoreRanker):
    """Item-kNN (Sarwar et al. 2001; Deshpande & Karypis 2004), as Dacrema et al.'s ItemKNNCF.

    The similarity of items ``i`` and ``j`` is the cosine of their (binarised) user columns
    with shrinkage: ``x_i . x_j / (|x_i| |x_j| + shrink)``. Each item keeps its ``k`` most
    similar items; ``score(u, j) = sum of sim(j, i) over the items i of u``. The matrix is
    built in blocks of item rows (:func:`.similarity.top_k_product`). Folding in
    ``user_items`` scores those rows instead of the training rows.

    Args:
        k: Neighbours kept per item.
        shrink: Shrinkage term of the cosine denominator (damps pairs with few co-owners).
        feature_weighting: ``none``, ``tfidf`` or ``bm25`` weighting of the users before the
            cosine (:func:`weigh_users`).

    """

    name = "itemknn"

    def __init__(
        self, k: int = 100, shrink: float = 10.0, feature_weighting: Weighting = "none"
    ) -> None:
        self.k = k
        self.shrink = shrink
        self.feature_weighting = feature_weighting

    def _fit(self, train: TrainData) -> None:
        items_users = weigh_users(binarise(train.user_items).T.tocsr(), self.feature_weighting)
        norms = np.sqrt(np.asarray(items_users.multiply(items_users).sum(axis=1)).ravel())

        def cosine(dots: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
            return dots / (norms[rows] * norms[columns] + self.shrink)

        similarity = top_k_product(items_users, items_users.T.tocsr(), cosine, self.k)
        self.similarity_t = similarity.T.tocsr()

    def scores(self, users: np.ndarray, rows: sp.csr_matrix) -> sp.csr_matrix:
        """Summed similarities of each item to the items of each row."""
        return sp.csr_matrix(binarise(rows) @ self.similarity_t)
