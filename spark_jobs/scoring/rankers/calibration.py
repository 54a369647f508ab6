"""Calibrated re-ranking (Steck 2018, "Calibrated Recommendations") over genre distributions.

A user's genre distribution ``p`` comes from their items, a list's ``q`` from the listed
items (each item's genre weights sum to 1, every item counts the same). Miscalibration is
``KL(p || q~)`` with ``q~ = (1 - alpha) q + alpha p``, so that it stays finite when the list
misses a genre of the user.

The greedy pass chooses *which* items make the list; the chosen items are then listed by their
score. Miscalibration depends on the set alone, while NDCG rewards the best items first: on the
synthetic world (20 000 users) this ordering cuts the NDCG cost of the same C_KL cut sevenfold
(at strength 0.4, C_KL -51 % for -0.9 % NDCG, against -6.5 % listed in greedy order).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

CHUNK_USERS = 2048
"""Users re-ranked at once (bounds the users x candidates x genres array)."""


def distribution(sums: np.ndarray) -> np.ndarray:
    """Genre sums scaled to sum 1 along the last axis (all-zero rows stay zero)."""
    total = sums.sum(axis=-1, keepdims=True)
    return np.divide(sums, total, out=np.zeros(sums.shape, dtype=np.float64), where=total > 0)


def genre_distribution(rows: sp.csr_matrix, item_genres: sp.csr_matrix | np.ndarray) -> np.ndarray:
    """``p(genre | user)`` of each row's items (binarised), ``(n_rows, n_genres)`` float64."""
    owned = sp.csr_matrix(rows, dtype=np.float64, copy=True)
    owned.data = (owned.data > 0).astype(np.float64)
    sums = owned @ item_genres
    return distribution(sums.toarray() if sp.issparse(sums) else np.asarray(sums))


def kl_divergence(p: np.ndarray, q: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    """``KL(p || (1 - alpha) q + alpha p)`` along the last axis (terms with ``p = 0`` are 0)."""
    q_tilde = (1.0 - alpha) * q + alpha * p
    with np.errstate(divide="ignore"):
        ratio = np.divide(p, q_tilde, out=np.ones(np.broadcast(p, q_tilde).shape), where=p > 0)
        return np.sum(p * np.log(ratio), axis=-1)


def genres_of(item_genres: sp.csr_matrix | np.ndarray, items: np.ndarray) -> np.ndarray:
    """Genre rows of ``items`` (any shape, -1 gives zeros), shape ``items.shape + (genres,)``."""
    flat = np.maximum(items.reshape(-1), 0)
    rows = item_genres[flat]
    dense = rows.toarray() if sp.issparse(rows) else np.asarray(rows)
    dense = dense.astype(np.float64) * (items.reshape(-1, 1) >= 0)
    return dense.reshape(*items.shape, dense.shape[1])


def genre_entries(
    item_genres: sp.csr_matrix | np.ndarray, items: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each item's genres as entries: ``(k,) + items.shape`` genre columns and their weights.

    ``k`` is the most genres any of the items has; entry ``j`` of an item is its ``j``-th genre,
    or column 0 with weight 0 when it has fewer (as has every entry of a -1 item).
    """
    flat = items.reshape(-1)
    rows = sp.csr_matrix(item_genres)[np.maximum(flat, 0)]
    lengths = np.diff(rows.indptr) * (flat >= 0)
    width = int(lengths.max(initial=0))
    columns = np.zeros((width, len(flat)), dtype=np.int64)
    weights = np.zeros((width, len(flat)), dtype=np.float64)
    listed = np.arange(width)[:, None] < lengths
    starts = rows.indptr[:-1] + np.arange(width)[:, None]
    columns[listed] = rows.indices[starts[listed]]
    weights[listed] = rows.data[starts[listed]]
    return columns.reshape(width, *items.shape), weights.reshape(width, *items.shape)


def calibrate(
    candidates: np.ndarray,
    candidate_scores: np.ndarray,
    user_genre_dist: np.ndarray,
    item_genres: sp.csr_matrix | np.ndarray,
    n: int,
    lam: float,
    alpha: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick ``n`` of each user's candidates greedily, trading score for calibration.

    Each step adds the candidate maximising ``(1 - lam) * sum of the list's scores
    - lam * KL(p || q~(list))``. Scores are first divided by the user's largest absolute
    candidate score, so that ``lam`` means the same for every ranker. The picked items are
    returned best score first (ties in the order they were picked). With ``lam = 0`` and
    candidates sorted best first (as rankers return them), the first ``n`` come back unchanged.

    Args:
        candidates: ``(n_users, c)`` item rows, best first, -1 padded.
        candidate_scores: Their scores (nan where there is no candidate).
        user_genre_dist: ``(n_users, n_genres)`` ``p`` of each user (:func:`genre_distribution`).
        item_genres: ``(n_items, n_genres)`` genre weights, CSR or dense.
        n: List length.
        lam: Weight of calibration, 0 (scores only) to 1 (calibration only).
        alpha: Share of ``p`` mixed into ``q`` (> 0: every log stays finite).

    Returns:
        ``(n_users, n)`` item rows and their original scores, -1 / nan padded.

    """
    ids = np.full((len(candidates), n), -1, dtype=np.int64)
    values = np.full((len(candidates), n), np.nan, dtype=np.float32)
    for lo in range(0, len(candidates), CHUNK_USERS):
        hi = min(lo + CHUNK_USERS, len(candidates))
        picked = _greedy(
            candidates[lo:hi],
            candidate_scores[lo:hi],
            user_genre_dist[lo:hi],
            genre_entries(item_genres, candidates[lo:hi]),
            n,
            lam,
            alpha,
        )
        found = picked >= 0
        at = np.maximum(picked, 0)
        ids[lo:hi] = np.where(found, np.take_along_axis(candidates[lo:hi], at, axis=1), -1)
        values[lo:hi] = np.where(
            found, np.take_along_axis(candidate_scores[lo:hi], at, axis=1), np.nan
        )
    return ids, values


def _greedy(
    candidates: np.ndarray,
    scores: np.ndarray,
    p: np.ndarray,
    entries: tuple[np.ndarray, np.ndarray],
    n: int,
    lam: float,
    alpha: float,
) -> np.ndarray:
    """Positions (in the candidate lists) of the picked items, ``(users, n)``, -1 padded.

    The positions come best score first: the greedy order only decides which items are picked.
    ``KL(p || q~)`` is ``sum p log p - sum p log q~``, and the first sum is the user's own, so
    each step maximises ``(1 - lam) * score sum + lam * sum p log q~`` (genres with ``p = 0``
    count 0: their ``q~`` is raised by 1 before the log). Adding a candidate changes ``q~``
    in its own genres and, through the list's genre total, its scale: so ``sum p log q~`` is
    taken once a step for each distinct genre total of an item (a few: 0 for a padded slot,
    and 1 up to the weights' rounding), and each candidate then corrects it in its own few
    genres only.
    """
    columns, weights = entries
    m, c = candidates.shape
    genres = p.shape[1]
    users = np.arange(m)
    taken = (candidates < 0) | ~np.isfinite(scores)
    score = np.where(taken, 0.0, scores).astype(np.float64)
    top = np.abs(score).max(axis=1, keepdims=True, initial=0.0)
    score = np.divide(score, top, out=np.zeros_like(score), where=top > 0)
    genre_sum = np.zeros(p.shape, dtype=np.float64)
    score_sum = np.zeros(m, dtype=np.float64)
    picked = np.full((m, n), -1, dtype=np.int64)
    totals, total_of = np.unique(weights.sum(axis=0), return_inverse=True)
    total_at = users[:, None] * len(totals) + total_of.reshape(m, c)
    mixed_in = alpha * p + (p == 0)
    cells = users[:, None] * genres + columns
    base_cells = total_at * genres + columns
    entry_p = np.take(p, cells)
    entry_mixed = np.take(mixed_in, cells)
    for step in range(min(n, c)):
        total = genre_sum.sum(axis=1, keepdims=True) + totals
        share = np.divide(1.0 - alpha, total, out=np.zeros_like(total), where=total > 0)
        base = genre_sum[:, None, :] * share[:, :, None] + mixed_in[:, None, :]
        np.log(base, out=base)
        closeness = np.take(np.matmul(base, p[:, :, None]), total_at)
        own = np.take(genre_sum, cells)
        own += weights
        own *= np.take(share, total_at)
        own += entry_mixed
        np.log(own, out=own)
        own -= np.take(base, base_cells)
        own *= entry_p
        closeness += own.sum(axis=0)
        objective = (1.0 - lam) * (score_sum[:, None] + score) + lam * closeness
        objective[taken] = -np.inf
        best = np.argmax(objective, axis=1)
        ok = objective[users, best] > -np.inf
        chosen, at = users[ok], best[ok]
        picked[ok, step] = at
        taken[chosen, at] = True
        np.add.at(genre_sum, (chosen, columns[:, chosen, at]), weights[:, chosen, at])
        score_sum[ok] += score[chosen, at]
    picked_score = np.where(
        picked >= 0, np.take_along_axis(score, np.maximum(picked, 0), 1), -np.inf
    )
    return np.take_along_axis(picked, np.argsort(-picked_score, axis=1, kind="stable"), axis=1)
