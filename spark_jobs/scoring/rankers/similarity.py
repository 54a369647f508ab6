"""Item-item matrices built in row blocks, cut to the k largest entries of each row.

A product ``left @ right`` over all items (co-occurrences, random-walk probabilities) can hold
items x items entries; computing it for a block of rows at a time, then keeping only each
row's top k, bounds the memory by the block (:data:`BLOCK_NNZ`) and the result (k per row).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import ranked_top_entries

BLOCK_NNZ = 1 << 22
"""Upper bound on the entries of one block of the product before it is cut."""

Weigh = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""The similarities of a block's entries from their raw values, item rows and item columns."""


def keep_top_k(block: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """The ``k`` largest finite positive entries of each row (ties to the lower column)."""
    rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
    rows, rank, columns, values = ranked_top_entries(
        rows, block.indices, block.data, block.shape[0], k
    )
    keep = rank < k
    return sp.csr_matrix(
        (values[keep], (rows[keep], columns[keep])), shape=block.shape, dtype=np.float32
    )


def row_blocks(work: np.ndarray, budget: int = BLOCK_NNZ) -> list[tuple[int, int]]:
    """Consecutive row ranges of about ``budget`` summed ``work`` each.

    A range sums to less than twice the budget unless one row alone exceeds it; every range
    has at least one row.
    """
    total = np.cumsum(work)
    cuts = np.searchsorted(total, np.arange(budget, total[-1] if len(total) else 0, budget))
    bounds = np.unique(np.concatenate([[0], cuts, [len(work)]]))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def top_k_product(
    left: sp.csr_matrix,
    right: sp.csr_matrix,
    weigh: Weigh,
    k: int,
    budget: int = BLOCK_NNZ,
    threads: int = 2,
) -> sp.csr_matrix:
    """``weigh(left @ right)`` without its diagonal, keeping the top ``k`` of each row.

    Blocks are computed on ``threads`` threads (scipy's product and numpy's partitions release
    the GIL) and stacked in row order, so the result is the same for any number.

    Args:
        left: ``(n_items, n_users)`` CSR.
        right: ``(n_users, n_items)`` CSR.
        weigh: Turns the entries of the product into similarities.
        k: Entries kept per row.
        budget: Upper bound on the product entries computed at once (per thread).
        threads: Blocks computed at once.

    Returns:
        ``(n_items, n_items)`` float32 CSR.

    """
    pattern = sp.csr_matrix((np.ones(left.nnz), left.indices, left.indptr), shape=left.shape)
    work = pattern @ np.diff(right.indptr).astype(np.float64)

    def top_block(bounds: tuple[int, int]) -> sp.csr_matrix:
        lo, hi = bounds
        block = sp.csr_matrix(left[lo:hi] @ right)
        rows = np.repeat(np.arange(lo, hi), np.diff(block.indptr))
        block.data = weigh(block.data, rows, block.indices)
        block.data[block.indices == rows] = 0.0
        return keep_top_k(block, k)

    with ThreadPoolExecutor(max(threads, 1)) as pool:
        parts = list(pool.map(top_block, row_blocks(work, budget)))
    if not parts:  # no items
        return sp.csr_matrix((left.shape[0], right.shape[1]), dtype=np.float32)
    return sp.csr_matrix(sp.vstack(parts, format="csr"), dtype=np.float32)
