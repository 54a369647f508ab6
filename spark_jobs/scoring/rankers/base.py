"""What every ranker is fitted on, the interface they share and the top-n selection they reuse.

Item rows are columns of the user-item matrix; user rows are its rows. A ranker never returns
an item the user already has (the user's row of the training matrix, or of the ``user_items``
passed to :meth:`Ranker.recommend`), and pads lists with -1 (item) and nan (score).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from discorecs.core.genres import GENRES
from spark_jobs.scoring.compute import user_tastes
from spark_jobs.scoring.rankers.selection import top_n, top_n_sparse
from spark_jobs.scoring.recommend import Collections, find_sorted

if TYPE_CHECKING:
    from discorecs.core.catalog import ReleaseCatalog, Tags

CHUNK_CELLS = 1 << 23
"""Cells (users x items) of the largest dense score block: 32 MiB of float32."""

LIST_PART = 512
"""Users per call of :func:`recommend_in_parts`: about a second of the hybrid's lists."""


@dataclass(frozen=True)
class ItemContent:
    """Content of each item row (None of it for interaction-only data).

    Attributes:
        genres: ``(n_items, 15)`` genre weights (a release with k genres: 1/k each).
        styles: ``(n_items, n_styles)`` style weights (1/k each).
        decades: ``(n_items,)`` int decade index (``year // 10``), -1 when unknown.
        artists: ``(n_items, n_artists)`` 0/1.
        labels: ``(n_items, n_labels)`` 0/1.

    """

    genres: sp.csr_matrix
    styles: sp.csr_matrix
    decades: np.ndarray
    artists: sp.csr_matrix
    labels: sp.csr_matrix

    @classmethod
    def from_catalog(cls, catalog: ReleaseCatalog) -> ItemContent:
        """The content of a catalogue's releases, in catalogue order."""
        return cls(
            genres=_tag_matrix(catalog.genres, len(GENRES), weighted=True),
            styles=_tag_matrix(catalog.styles, len(catalog.styles.names), weighted=True),
            decades=np.where(catalog.years > 0, catalog.years // 10, -1).astype(np.int64),
            artists=_tag_matrix(catalog.artists, len(catalog.artists.names), weighted=False),
            labels=_tag_matrix(catalog.labels, len(catalog.labels.names), weighted=False),
        )

    @cached_property
    def credits(self) -> sp.csr_matrix:
        """``(n_items, n_artists + n_labels)`` 0/1: the artists, then the labels, of each item."""
        return sp.hstack([self.artists, self.labels], format="csr")


def _tag_matrix(tags: Tags, width: int, weighted: bool) -> sp.csr_matrix:
    """Tags as a ``(n_items, width)`` CSR: 1/k for each of an item's k tags, or 1."""
    counts = tags.counts()
    values = 1.0 / np.repeat(counts, counts) if weighted else np.ones(len(tags.idx))
    return sp.csr_matrix(
        (values.astype(np.float32), tags.idx.astype(np.int64), tags.ptr.astype(np.int64)),
        shape=(len(counts), max(width, 1)),
    )


def same_sparsity(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    """Whether two CSR matrices (indices sorted) have the same shape and stored entries."""
    return (
        a.shape == b.shape
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
    )


@dataclass(frozen=True)
class TrainData:
    """What a ranker may learn from.

    Attributes:
        user_items: ``(n_users, n_items)`` float32 weights (1.0 = owned), sorted indices.
        added_at: Same sparsity: the add time of each pair, seconds since the epoch (float64).
        now: The split time in seconds: nothing after it is known.
        content: Item content (None for interaction-only data).
        activity: ``(n_users, n_items)`` counts of views, plays and wants known to the rankers.
        activity_at: Same sparsity: the time of each pair's first event, when known (it lets
            a validation split cut the activity per user, as the evaluation does).

    """

    user_items: sp.csr_matrix
    added_at: sp.csr_matrix
    now: float
    content: ItemContent | None = None
    activity: sp.csr_matrix | None = None
    activity_at: sp.csr_matrix | None = None

    @property
    def n_users(self) -> int:
        """Number of user rows."""
        return int(self.user_items.shape[0])

    @property
    def n_items(self) -> int:
        """Number of item rows."""
        return int(self.user_items.shape[1])

    def require_content(self, ranker: str) -> ItemContent:
        """The item content, which ``ranker`` needs.

        Raises:
            ValueError: There is none.

        """
        if self.content is None:
            raise ValueError(f"{ranker} needs item content, the training data has none")
        return self.content

    def activity_before(
        self, cuts: np.ndarray
    ) -> tuple[sp.csr_matrix | None, sp.csr_matrix | None]:
        """The activity pairs whose first event is strictly before their user's cut.

        Without ``activity_at`` the activity is returned whole (it cannot be cut).

        Args:
            cuts: One time per user row.

        Returns:
            ``(activity, activity_at)`` restricted to those pairs.

        Raises:
            ValueError: The two matrices differ in sparsity.

        """
        if self.activity is None or self.activity_at is None:
            return self.activity, self.activity_at
        counts, first = (sp.csr_matrix(m, copy=True) for m in (self.activity, self.activity_at))
        counts.sort_indices()
        first.sort_indices()
        if not same_sparsity(counts, first):
            raise ValueError("activity and activity_at must have the same sparsity")
        rows = np.repeat(np.arange(self.n_users), np.diff(first.indptr))
        keep = first.data < cuts[rows]

        def kept(matrix: sp.csr_matrix) -> sp.csr_matrix:
            return sp.csr_matrix(
                (matrix.data[keep], (rows[keep], first.indices[keep])), shape=first.shape
            )

        return kept(counts), kept(first)

    @cached_property
    def owners(self) -> np.ndarray:
        """Users owning each item (positive entries per column), int64, read-only.

        Counted once: every ranker's fit and each block of candidate features read it, and a
        count costs a pass over every stored entry (0.36 s at 1M users with 20 items each).
        """
        owned = self.user_items.data > 0
        counts = np.bincount(self.user_items.indices[owned], minlength=self.n_items)
        counts.flags.writeable = False
        return counts


def genre_tastes(
    owned: sp.csr_matrix, content: ItemContent, activity: sp.csr_matrix | None
) -> tuple[Collections, np.ndarray]:
    """Every user's collection and taste, as the hourly job computes them.

    Args:
        owned: ``(users, items)`` 0/1 collections.
        content: The items' genres, artists and labels.
        activity: ``(users, items)`` activity (non-zero where a user was active), if any.

    Returns:
        The collections in the hourly job's form and the ``(users, 15)`` unit tastes.

    """
    collections = Collections.from_csr(owned)
    taste, _ = user_tastes(
        collections,
        content.genres.toarray(),
        np.arange(owned.shape[0]),
        activity,
        content.credits,
    )
    return collections, taste


def binarise(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """The positive entries of ``matrix`` as 1.0 (float32 CSR, sorted indices)."""
    ones = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    ones.data = (ones.data > 0).astype(np.float32)
    ones.eliminate_zeros()
    ones.sort_indices()
    return ones


def row_stochastic(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Each row divided by its sum (empty rows stay empty), float32 CSR."""
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return sp.csr_matrix(sp.diags(scale.astype(np.float32)) @ matrix, dtype=np.float32)


def with_rows(matrix: sp.csr_matrix, users: np.ndarray, rows: sp.csr_matrix) -> sp.csr_matrix:
    """``matrix`` with the rows of the distinct ``users`` replaced by ``rows`` (in that order)."""
    n_users = matrix.shape[0]
    keep = np.ones(n_users, dtype=np.float32)
    keep[users] = 0.0
    place = sp.csr_matrix(
        (np.ones(len(users), dtype=np.float32), (users, np.arange(len(users)))),
        shape=(n_users, len(users)),
    )
    replaced = sp.csr_matrix(sp.diags(keep) @ matrix + place @ rows, dtype=matrix.dtype)
    replaced.sort_indices()
    return replaced


def chunk_rows(n_items: int, cells: int = CHUNK_CELLS) -> int:
    """Users per dense score block so that a block holds at most ``cells`` cells."""
    return max(1, min(1024, cells // max(n_items, 1)))


def ranked_entries(
    rows: np.ndarray, columns: np.ndarray, values: np.ndarray, n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sparse entries with a finite positive value, ranked within their row.

    Args:
        rows: Row of each entry.
        columns: Column of each entry (distinct within a row).
        values: Value of each entry.
        n_rows: Number of rows.

    Returns:
        ``(rows, ranks, columns, values)`` of the kept entries, by row then rank: the largest
        value has rank 0, ties go to the lower column.

    """
    usable = (values > 0) & (values < np.inf)
    rows, columns, values = sorted_entries(rows[usable], columns[usable], values[usable])
    return rows, places_in_rows(rows, n_rows), columns, values


FLOAT32_BITS = 31
"""Bits of a positive float32 as an integer (its sign bit is 0); they order as its value."""


def sorted_entries(
    rows: np.ndarray, columns: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries by row, then value (largest first), then column.

    Float32 entries whose row and column numbers fit beside the value's bits in one int64 are
    sorted as that one key (``row | value bits reversed | column``), a single-key sort about
    3.5 times faster than the three-key lexsort the others get (2.5M of content's candidate
    entries: 0.30 s against 1.1 s).

    Args:
        rows: Row of each entry (non-negative).
        columns: Column of each entry (non-negative).
        values: Value of each entry, finite and positive.

    """
    column_bits = int(columns.max(initial=0)).bit_length()
    row_bits = int(rows.max(initial=0)).bit_length()
    if values.dtype != np.float32 or row_bits + FLOAT32_BITS + column_bits > 63:
        order = np.lexsort((columns, -values, rows))
        return rows[order], columns[order], values[order]
    top = (1 << FLOAT32_BITS) - 1
    below = top - values.view(np.int32).astype(np.int64)
    key = (rows.astype(np.int64) << (FLOAT32_BITS + column_bits)) | (below << column_bits)
    key |= columns
    key.sort()
    sorted_values = (top - ((key >> column_bits) & top)).astype(np.int32).view(np.float32)
    return (
        (key >> (FLOAT32_BITS + column_bits)).astype(rows.dtype, copy=False),
        (key & ((1 << column_bits) - 1)).astype(columns.dtype, copy=False),
        sorted_values,
    )


def places_in_rows(rows: np.ndarray, n_rows: int) -> np.ndarray:
    """Each entry's place within its row (0 for the row's first), ``rows`` ascending."""
    return np.arange(len(rows)) - np.searchsorted(rows, np.arange(n_rows))[rows]


def ranked_top_entries(
    rows: np.ndarray, columns: np.ndarray, values: np.ndarray, n_rows: int, n: int | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`ranked_entries` of the entries that can rank below ``n`` in their row.

    Each row with more than its ``n`` usable entries is first cut at its ``n``-th largest value
    (a partition of that row's entries alone), so only the entries at or above it are sorted:
    the ranks below ``n`` are those :func:`ranked_entries` gives all the entries.

    Args:
        rows: Row of each entry, ascending.
        columns: Column of each entry (distinct within a row).
        values: Value of each entry.
        n_rows: Number of rows.
        n: Ranks wanted, for every row or ``(n_rows,)`` one per row.

    Returns:
        ``(rows, ranks, columns, values)`` as :func:`ranked_entries` returns them, every rank
        below ``n`` included (ties at the ``n``-th value may add higher ranks).

    """
    usable = values > 0
    usable &= values < np.inf
    if not usable.all():
        rows, columns, values = rows[usable], columns[usable], values[usable]
    bounds = np.searchsorted(rows, np.arange(n_rows + 1))
    sizes = np.diff(bounds)
    wanted = np.broadcast_to(np.asarray(n, dtype=np.int64), (n_rows,))
    kth = np.full(n_rows, -np.inf, dtype=values.dtype)
    for row in np.flatnonzero(sizes > wanted).tolist():
        part = values[bounds[row] : bounds[row + 1]]
        cut = len(part) - int(wanted[row])
        kth[row] = np.partition(part, cut)[cut]
    near = np.flatnonzero(values >= np.repeat(kth, sizes))
    return ranked_entries(rows.take(near), columns.take(near), values.take(near), n_rows)


def top_of_ranking(ranking: np.ndarray, exclude: sp.csr_matrix, n: int) -> np.ndarray:
    """The first ``n`` items of one global ranking that are not in each row of ``exclude``.

    Args:
        ranking: Item rows, best first (items left out are never returned).
        exclude: ``(m, n_items)`` CSR with sorted indices: the items each row must not get.
        n: List length.

    Returns:
        ``(m, n)`` int64 item rows, -1 padded.

    """
    m, n_items = exclude.shape
    ids = np.full((m, n), -1, dtype=np.int64)
    sizes = np.diff(exclude.indptr)
    head = ranking[: n + int(sizes.max(initial=0))]
    step = max(1, CHUNK_CELLS // max(len(head), 1))
    for lo in range(0, m, step):
        hi = min(lo + step, m)
        local = np.arange(hi - lo, dtype=np.int64)
        owned = np.repeat(local, sizes[lo:hi]) * n_items
        owned += exclude.indices[exclude.indptr[lo] : exclude.indptr[hi]]
        wanted = local[:, None] * n_items + head[None, :]
        fresh = ~find_sorted(owned, wanted.reshape(-1))[1].reshape(wanted.shape)
        order = np.argsort(~fresh, axis=1, kind="stable")[:, :n]
        picked = np.where(np.take_along_axis(fresh, order, axis=1), head[order], -1)
        ids[lo:hi, : picked.shape[1]] = picked
    return ids


def top_n_blocks(
    score: Callable[[int, int], np.ndarray | sp.csr_matrix],
    exclude: sp.csr_matrix,
    n: int,
    *,
    cells: int = CHUNK_CELLS,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`top_n` over blocks of :func:`chunk_rows` users, never one dense users x items.

    Args:
        score: ``score(lo, hi)`` is the score block of rows ``lo:hi``, dense or CSR (ranked
            by :func:`top_n_sparse`, which costs less than making it dense at any share of
            stored cells).
        exclude: ``(m, n_items)`` CSR: the items of each row that must not be returned.
        n: List length.
        cells: Most cells of a dense score block.

    Returns:
        ``(m, n)`` int64 item rows and float32 scores, -1 / nan padded.

    """
    m, n_items = exclude.shape
    ids = np.full((m, n), -1, dtype=np.int64)
    values = np.full((m, n), np.nan, dtype=np.float32)
    step = chunk_rows(n_items, cells)
    for lo in range(0, m, step):
        hi = min(lo + step, m)
        block = score(lo, hi)
        if isinstance(block, np.ndarray):
            ids[lo:hi], values[lo:hi] = top_n(block, exclude[lo:hi], n)
        else:
            ids[lo:hi], values[lo:hi] = top_n_sparse(sp.csr_matrix(block), exclude[lo:hi], n)
    return ids, values


class Ranker(ABC):
    """A recommender: fitted once on :class:`TrainData`, then asked for top-n lists.

    Attributes:
        name: Short name in reports.
        needs_content: Whether :meth:`fit` needs ``train.content``.
        needs_activity: Whether the ranker lists nothing without ``train.activity``.

    """

    name: str = ""
    needs_content: bool = False
    needs_activity: bool = False
    train: TrainData

    def fit(self, train: TrainData) -> None:
        """Learn from the training data (replacing anything learnt before).

        Fitting again on the very same ``train`` object keeps what was learnt, so a ranker
        that is also a hybrid's source is fitted once.

        Raises:
            ValueError: The ranker needs item content and ``train`` has none.

        """
        if getattr(self, "train", None) is train:
            return
        self.train = train
        self._fit(train)

    @abstractmethod
    def _fit(self, train: TrainData) -> None:
        """Learn from ``train`` (already stored as ``self.train``)."""

    @abstractmethod
    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-n item rows and scores for each user row, ``(len(users), n)``, -1 / nan padded.

        Items in the user's row of ``user_items`` (default: the training rows of ``users``) are
        never returned. Passing ``user_items`` folds a user's newest items in without refitting,
        where the ranker allows it (each ranker says how).

        Args:
            users: User rows of the training data.
            n: List length.
            user_items: ``(len(users), n_items)`` CSR, row ``i`` for ``users[i]``.

        Returns:
            Item rows (int64) and scores (float32), best first.

        """

    def rows(self, users: np.ndarray, user_items: sp.csr_matrix | None) -> sp.csr_matrix:
        """The item rows of ``users``: ``user_items`` if given, else their training rows."""
        if user_items is None:
            chosen = sp.csr_matrix(self.train.user_items[np.asarray(users, dtype=np.int64)])
        else:
            chosen = sp.csr_matrix(user_items, copy=True)
            expected = (len(users), self.train.n_items)
            if chosen.shape != expected:
                raise ValueError(f"user_items has shape {chosen.shape}, expected {expected}")
        chosen.sort_indices()
        return chosen


def recommend_in_parts(
    ranker: Ranker,
    users: np.ndarray,
    n: int,
    threads: int,
    part: int = LIST_PART,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`Ranker.recommend` of ``part`` users at a time, on ``threads`` threads.

    The lists are those of one call: every ranker lists each user from that user's row alone.
    Threads pay because the costly steps (numpy's partitions and products, the compiled ranking
    model's predict, faiss's search) run outside the GIL. What listing writes, every thread
    writes alike: content's prefixes (a repeat fill stores the same arrays) and the taste
    index's ``efSearch``.

    Args:
        ranker: A fitted ranker.
        users: User rows of its training data.
        n: List length.
        threads: Threads listing at once (1, and no ``progress``: one call, in this thread).
        part: Users listed per call.
        progress: Told the number of users of each part listed, in order.

    Returns:
        Item rows and scores, ``(len(users), n)``, as :meth:`Ranker.recommend`.

    """
    users = np.asarray(users, dtype=np.int64)
    if (threads <= 1 and progress is None) or len(users) <= part:
        return ranker.recommend(users, n)
    parts = [users[start : start + part] for start in range(0, len(users), part)]
    lists = []
    with ThreadPoolExecutor(max(threads, 1)) as pool:
        for chosen, listed in zip(
            parts, pool.map(lambda chosen: ranker.recommend(chosen, n), parts), strict=True
        ):
            lists.append(listed)
            if progress is not None:
                progress(len(chosen))
    return np.vstack([ids for ids, _ in lists]), np.vstack([scores for _, scores in lists])


def usable(sources: Iterable[Ranker], train: TrainData) -> list[Ranker]:
    """The sources that can learn from ``train``: those needing content only when it has some."""
    return [s for s in sources if not s.needs_content or train.content is not None]


class ScoreRanker(Ranker):
    """A ranker that scores every item it can list for a block of users; :func:`top_n` picks."""

    @abstractmethod
    def scores(self, users: np.ndarray, rows: sp.csr_matrix) -> np.ndarray | sp.csr_matrix:
        """The users' scores given their item rows, dense or CSR.

        Returns:
            ``(len(users), n_items)``, or ``(len(users), len(scored_items()))`` when the ranker
            scores only some items.

        """

    def scored_items(self) -> np.ndarray | None:
        """The ascending item rows :meth:`scores` covers, None for every item (the default)."""
        return None

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-n items by :meth:`scores` (see :meth:`Ranker.recommend`)."""
        users = np.asarray(users, dtype=np.int64)
        rows = self.rows(users, user_items)
        items = self.scored_items()
        if items is not None and not len(items):  # e.g. EASE before anyone owns anything
            return top_n_blocks(lambda lo, hi: np.zeros((hi - lo, 0)), rows[:, :0], n)
        exclude = rows if items is None else sp.csr_matrix(rows[:, items])
        ids, values = top_n_blocks(
            lambda lo, hi: self.scores(users[lo:hi], rows[lo:hi]), exclude, n
        )
        if items is None:
            return ids, values
        return np.where(ids >= 0, items[np.maximum(ids, 0)], -1), values
