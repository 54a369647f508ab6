"""RP3beta: three-step random walks from a user's items, divided by popularity."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import ScoreRanker, TrainData, binarise, row_stochastic
from spark_jobs.scoring.rankers.similarity import top_k_product


class RP3beta(ScoreRanker):
    """RP3beta (Paudel et al. 2017), as in Dacrema et al.'s baselines.

    With ``P_ui`` the row-normalised (binarised) user-item matrix and ``P_iu`` the
    row-normalised item-user matrix, both raised element-wise to ``alpha``, the item-item
    matrix is ``W[i, j] = (P_iu^alpha @ P_ui^alpha)[i, j] / popularity(j)^beta`` without its
    diagonal, keeping the ``k`` largest entries of each row ``i``;
    ``score(u, j) = sum of W[i, j] over the items i of u``. Folding in ``user_items`` scores
    those rows instead of the training rows.

    Args:
        alpha: Exponent of the transition probabilities.
        beta: Popularity penalty (0: plain P3alpha). Paudel et al. found about 0.6 best on
            their data; on long-tailed collections (most releases have one or two owners)
            that lets one-owner items crowd every list, so the default is milder.
        k: Entries kept per item row.

    """

    name = "rp3beta"

    def __init__(self, alpha: float = 1.0, beta: float = 0.2, k: int = 100) -> None:
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def _fit(self, train: TrainData) -> None:
        owned = binarise(train.user_items)
        p_ui = row_stochastic(owned)
        p_iu = row_stochastic(owned.T.tocsr())
        if self.alpha != 1.0:
            p_ui.data **= self.alpha
            p_iu.data **= self.alpha
        popularity = train.owners.astype(np.float64)
        degree = np.power(
            popularity, -self.beta, out=np.zeros_like(popularity), where=popularity > 0
        )

        def penalise(walks: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
            return walks * degree[columns]

        self.similarity = top_k_product(p_iu, p_ui, penalise, self.k)

    def scores(self, users: np.ndarray, rows: sp.csr_matrix) -> sp.csr_matrix:
        """Summed walk weights from the items of each row to every item."""
        return sp.csr_matrix(binarise(rows) @ self.similarity)
