"""Accuracy and beyond-accuracy metrics of top-k lists, in numpy.

Alignment: ``recs`` is an ``(n_test_users, width)`` int array of item rows, best first, -1
padded; only its first ``k`` columns count. Every per-user argument (``test``, ``history``) is
a CSR whose row ``i`` belongs to the user of ``recs[i]`` (:meth:`.split.Split.test_rows`
beside ``recommend(split.test_users, ...)``). Per-user values are nan where a metric is
undefined (an empty test row, an empty list for novelty, a history without genres) and the
means skip them.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.calibration import (
    distribution,
    genre_distribution,
    genres_of,
    kl_divergence,
)
from spark_jobs.scoring.recommend import find_sorted


def mean(values: np.ndarray) -> float:
    """Mean over the non-nan values (nan when there are none)."""
    known = values[~np.isnan(values)]
    return float(known.mean()) if len(known) else math.nan


def hits(recs: np.ndarray, test: sp.csr_matrix, k: int = 10) -> np.ndarray:
    """``(n_users, k)`` bool: whether each listed item is in the user's test row."""
    top = np.asarray(recs)[:, :k].astype(np.int64)
    rows = sp.csr_matrix(test)
    rows.sort_indices()
    n_items = rows.shape[1]
    keys = np.repeat(np.arange(rows.shape[0], dtype=np.int64), np.diff(rows.indptr)) * n_items
    keys += rows.indices
    wanted = np.arange(len(top), dtype=np.int64)[:, None] * n_items + top
    found = find_sorted(keys, wanted.reshape(-1))[1].reshape(wanted.shape)
    return found & (top >= 0)


def _test_sizes(test: sp.csr_matrix) -> np.ndarray:
    return np.diff(sp.csr_matrix(test).indptr).astype(np.float64)


def recall_per_user(recs: np.ndarray, test: sp.csr_matrix, k: int = 10) -> np.ndarray:
    """Recall@k per user: hits in the top k divided by ``|test_u|``.

    The denominator is the whole test set (as in Dacrema et al. 2019), not ``min(k, |test_u|)``
    (Liang et al. 2018, Steck 2019): a user with more than k test items cannot reach 1.
    """
    sizes = _test_sizes(test)
    found = hits(recs, test, k).sum(axis=1)
    return np.divide(found, sizes, out=np.full(len(sizes), np.nan), where=sizes > 0)


def recall_at_k(recs: np.ndarray, test: sp.csr_matrix, k: int = 10) -> float:
    """Mean :func:`recall_per_user`."""
    return mean(recall_per_user(recs, test, k))


def ndcg_per_user(recs: np.ndarray, test: sp.csr_matrix, k: int = 10) -> np.ndarray:
    """NDCG@k per user with binary relevance: ``DCG / ideal DCG``.

    ``DCG = sum of 1 / log2(rank + 1)`` over the hits at ranks 1..k; the ideal DCG puts hits
    at the first ``min(k, |test_u|)`` ranks.
    """
    sizes = _test_sizes(test)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    found = hits(recs, test, k)
    dcg = (found * discount[: found.shape[1]]).sum(axis=1)
    ideal = np.concatenate([[0.0], np.cumsum(discount)])[np.minimum(sizes, k).astype(np.int64)]
    return np.divide(dcg, ideal, out=np.full(len(sizes), np.nan), where=sizes > 0)


def ndcg_at_k(recs: np.ndarray, test: sp.csr_matrix, k: int = 10) -> float:
    """Mean :func:`ndcg_per_user`."""
    return mean(ndcg_per_user(recs, test, k))


def hit_rate_per_user(recs: np.ndarray, test: sp.csr_matrix, k: int = 10) -> np.ndarray:
    """1.0 for a user with at least one hit in the top k, else 0.0."""
    found = hits(recs, test, k).any(axis=1).astype(np.float64)
    return np.where(_test_sizes(test) > 0, found, np.nan)


def hit_rate_at_k(recs: np.ndarray, test: sp.csr_matrix, k: int = 10) -> float:
    """Share of users with at least one hit in the top k."""
    return mean(hit_rate_per_user(recs, test, k))


def item_coverage_at_k(recs: np.ndarray, catalogue_items: np.ndarray, k: int = 10) -> float:
    """Share of ``catalogue_items`` that appear in at least one top-k list."""
    catalogue = np.unique(catalogue_items)
    if len(catalogue) == 0:
        return math.nan
    listed = np.asarray(recs)[:, :k]
    return float(np.isin(catalogue, listed[listed >= 0]).mean())


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative counts: 0 when equal, ``(n - 1) / n`` when one has all.

    ``G = sum_i (2i - n - 1) x_(i) / (n sum x)`` with ``x`` sorted ascending, i = 1..n;
    0 for an empty or all-zero input.
    """
    x = np.sort(np.asarray(counts, dtype=np.float64))
    total = x.sum()
    if len(x) == 0 or total <= 0:
        return 0.0
    i = np.arange(1, len(x) + 1)
    return float(((2 * i - len(x) - 1) * x).sum() / (len(x) * total))


def gini_of_exposure(recs: np.ndarray, n_items: int, k: int = 10) -> float:
    """Gini of how often each of the ``n_items`` items is listed in the top k (0 even .. 1)."""
    listed = np.asarray(recs)[:, :k]
    return gini(np.bincount(listed[listed >= 0], minlength=n_items))


def novelty_per_user(recs: np.ndarray, train: sp.csr_matrix, k: int = 10) -> np.ndarray:
    """Mean self-information ``-log2(owners / n_users)`` of each user's listed items.

    ``owners`` counts the users owning the item in ``train`` (the whole training matrix, not
    aligned with ``recs``); an item nobody owns counts 0.5 owners, so it is novel but finite.
    """
    matrix = sp.csr_matrix(train)
    owners = np.bincount(matrix.indices[matrix.data > 0], minlength=matrix.shape[1])
    information = -np.log2(np.maximum(owners, 0.5) / max(matrix.shape[0], 1))
    listed = np.asarray(recs)[:, :k]
    valid = listed >= 0
    total = np.where(valid, information[np.maximum(listed, 0)], 0.0).sum(axis=1)
    count = valid.sum(axis=1)
    return np.divide(total, count, out=np.full(len(listed), np.nan), where=count > 0)


def novelty(recs: np.ndarray, train: sp.csr_matrix, k: int = 10) -> float:
    """Mean :func:`novelty_per_user`."""
    return mean(novelty_per_user(recs, train, k))


def calibration_per_user(
    recs: np.ndarray,
    history: sp.csr_matrix,
    genres: sp.csr_matrix | np.ndarray,
    alpha: float = 0.01,
    k: int = 10,
) -> np.ndarray:
    """Miscalibration ``KL(p || q~)`` of each list (Steck 2018): 0 is perfectly calibrated.

    ``p`` is the genre distribution of the user's training items (``history``, aligned with
    ``recs``), ``q`` that of the listed items, ``q~ = (1 - alpha) q + alpha p``. An empty list
    scores ``log(1 / alpha)``; a history without genres is nan.
    """
    p = genre_distribution(history, genres)
    listed = np.asarray(recs)[:, :k]
    q = distribution(genres_of(genres, listed).sum(axis=1))
    return np.where(p.any(axis=1), kl_divergence(p, q, alpha), np.nan)


def calibration_ckl(
    recs: np.ndarray,
    history: sp.csr_matrix,
    genres: sp.csr_matrix | np.ndarray,
    alpha: float = 0.01,
    k: int = 10,
) -> float:
    """Mean :func:`calibration_per_user`."""
    return mean(calibration_per_user(recs, history, genres, alpha, k))
