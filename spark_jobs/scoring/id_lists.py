"""Per row, a short list of ids, held as two flat arrays (no Python object per row).

The hourly run keeps each user's last recommended release ids for its online check and its
snapshot. At a million users a list of per-user arrays is a million Python objects, built and
walked one at a time on every full read, snapshot save and load; these lists are moved whole by
array operations instead.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from spark_jobs.scoring.recommend import expand_rows


@dataclass(frozen=True, eq=False)
class IdLists:
    """Row ``r``'s ids are ``ids[ptr[r]:ptr[r + 1]]`` (the layout of a CSR matrix's indices).

    Attributes:
        ptr: ``(rows + 1,)`` int64, where each row's ids start, then their total.
        ids: int64, the rows' ids one after another.

    """

    ptr: np.ndarray
    ids: np.ndarray

    @classmethod
    def empty(cls, rows: int) -> IdLists:
        """``rows`` empty lists."""
        return cls(np.zeros(rows + 1, dtype=np.int64), np.zeros(0, dtype=np.int64))

    @classmethod
    def of_lengths(cls, lengths: np.ndarray, ids: np.ndarray) -> IdLists:
        """The lists of the given lengths that ``ids`` holds one after another."""
        ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=ptr[1:])
        return cls(ptr, np.asarray(ids, dtype=np.int64))

    @classmethod
    def of(cls, lists: Sequence[Collection[int] | None]) -> IdLists:
        """The given lists (None: empty), in order."""
        present: list[Collection[int]] = [() if listed is None else listed for listed in lists]
        lengths = np.fromiter(map(len, present), dtype=np.int64, count=len(present))
        ids = np.fromiter(chain.from_iterable(present), dtype=np.int64, count=int(lengths.sum()))
        return cls.of_lengths(lengths, ids)

    @classmethod
    def of_padded(cls, padded: np.ndarray, values: np.ndarray) -> IdLists:
        """One list per row of ``padded``: ``values`` at its entries ≥ 0, in order (-1: none)."""
        present = padded >= 0
        return cls.of_lengths(present.sum(axis=1), values[padded[present]])

    def __len__(self) -> int:
        return len(self.ptr) - 1

    def __getitem__(self, row: int) -> np.ndarray:
        """Row ``row``'s ids (a view)."""
        return self.ids[self.ptr[row] : self.ptr[row + 1]]

    @property
    def lengths(self) -> np.ndarray:
        """Each row's number of ids."""
        return np.diff(self.ptr)

    def tolist(self) -> list[list[int]]:
        """Each row's ids as a Python list."""
        return [self[row].tolist() for row in range(len(self))]

    def spread(self, rows: np.ndarray, count: int) -> IdLists:
        """These lists as rows ``rows`` (distinct, any order) of ``count`` rows, the rest empty."""
        return _placed(count, (self, rows))

    def take(self, rows: np.ndarray) -> IdLists:
        """The lists of rows ``rows``, in that order."""
        return IdLists.of_lengths(self.lengths[rows], self.ids[expand_rows(self.ptr, rows)[1]])

    def replaced(self, rows: np.ndarray, lists: IdLists) -> IdLists:
        """These lists with row ``rows[i]``'s replaced by ``lists[i]`` (``rows`` distinct)."""
        kept = np.ones(len(self), dtype=bool)
        kept[rows] = False
        others = np.flatnonzero(kept)
        return _placed(len(self), (self.take(others), others), (lists, rows))


def _placed(count: int, *parts: tuple[IdLists, np.ndarray]) -> IdLists:
    """``count`` lists: each part's ``i``-th list at its row ``rows[i]``, every other one empty.

    Args:
        count: Rows of the result.
        *parts: ``(lists, rows)`` pairs; no row is named twice across them.

    """
    lengths = np.zeros(count, dtype=np.int64)
    for lists, rows in parts:
        lengths[rows] = lists.lengths
    placed = IdLists.of_lengths(lengths, np.empty(int(lengths.sum()), dtype=np.int64))
    for lists, rows in parts:
        placed.ids[expand_rows(placed.ptr, rows)[1]] = lists.ids
    return placed
