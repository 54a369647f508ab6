"""Taste vectors: the L2-normalised genre mix of what a user owns and recently played.

Each of a user's releases (owned, or viewed, played or wanted in the last 30 days; each counted
once) adds its genre weights, discounted by how many of the user's releases share its artist or
label: ten records from one label say less about the genres a collector likes than ten records
from ten labels, because a loyal collector follows the label across its genres.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.recommend import expand_rows

CREDIT_DISCOUNT = 0.5
"""A release weighs ``repeats ** -CREDIT_DISCOUNT``, where ``repeats`` is the most of the user's
releases that share one of its artists or labels (1 when none is shared). On the synthetic world
the friend's hidden taste is then 0.954 as close as the true nearest neighbour's, against 0.936
without the discount (``discorecs evaluate``, 3 seeds); 0.35 / 0.75 give 0.951 / 0.954
(docs/design.md, "The taste and the friend")."""


def credit_repeats(
    user_pos: np.ndarray, release_pos: np.ndarray, credits: sp.csr_matrix
) -> np.ndarray:
    """For each (user, release) pair, how many of the user's releases share its most shared credit.

    Args:
        user_pos: User row of each pair; the pairs must be distinct.
        release_pos: Release row of each pair.
        credits: ``(n_releases, n_credits)`` CSR, non-zero where a release credits an artist or
            label.

    Returns:
        One count per pair, at least 1 (a release without credits counts as its own).

    """
    credits = sp.csr_matrix(credits)
    users = np.asarray(user_pos, dtype=np.int64)
    releases = np.asarray(release_pos, dtype=np.int64)
    pair, at = expand_rows(credits.indptr.astype(np.int64), releases)
    keys = users[pair] * max(credits.shape[1], 1) + credits.indices[at].astype(np.int64)
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    per_pair = np.bincount(pair, minlength=len(users))
    shared = per_pair > 0
    repeats = np.ones(len(users), dtype=np.int64)
    if shared.any():
        offsets = (np.cumsum(per_pair) - per_pair)[shared]
        repeats[shared] = np.maximum.reduceat(counts[inverse.ravel()], offsets)
    return repeats


def taste_vectors(
    user_pos: np.ndarray,
    release_pos: np.ndarray,
    release_weights: np.ndarray,
    n_users: int,
    credits: sp.csr_matrix | None = None,
) -> np.ndarray:
    """Sum the discounted genre weights of each user's releases and L2-normalise them.

    Args:
        user_pos: Row of the user (0..n_users-1) of each distinct (user, release) pair: what
            the user owns or recently viewed, played or wanted, each release once.
        release_pos: Row of the release in ``release_weights`` for each pair.
        release_weights: ``(n_releases, 15)`` genre weights.
        n_users: Number of users (rows of the result).
        credits: ``(n_releases, n_credits)`` artists and labels of each release; each pair
            then weighs ``credit_repeats ** -CREDIT_DISCOUNT`` (1 when omitted).

    Returns:
        ``(n_users, 15)`` float32; users without any weighted release get a zero row.

    """
    owners = np.asarray(user_pos, dtype=np.int64)
    releases = np.asarray(release_pos, dtype=np.int64)
    share = np.ones(len(owners))
    if credits is not None and len(owners):
        share = credit_repeats(owners, releases, credits).astype(np.float64) ** -CREDIT_DISCOUNT
    shape = (n_users, release_weights.shape[0])
    pairs = sp.coo_matrix((share, (owners, releases)), shape=shape).tocsr()
    sums = np.asarray(pairs @ np.asarray(release_weights, dtype=np.float64))
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return np.divide(sums, norms, out=np.zeros_like(sums), where=norms > 0).astype(np.float32)


def has_taste(taste: np.ndarray) -> np.ndarray:
    """Boolean mask of the users whose taste vector is not all zeros."""
    return np.any(taste != 0, axis=1)


def top_genres(taste: np.ndarray) -> np.ndarray:
    """Each user's top genre index (the largest taste component), -1 without a taste."""
    return np.where(has_taste(taste), np.argmax(taste, axis=1), -1)
