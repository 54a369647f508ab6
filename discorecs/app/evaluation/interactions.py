"""Interactions to evaluate on: (user, item, time, weight) rows with optional item content.

Three sources share this shape: the synthetic world (:mod:`.world`), the live Cassandra
``user_collection`` (:func:`read_cassandra`) and any CSV file with a header
``user,item,timestamp[,weight]`` (:func:`read_csv`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from discorecs.core.cassandra import session_scope
from discorecs.core.catalog import ReleaseCatalog, load_cassandra
from discorecs.core.settings import Settings
from discorecs.core.tables import USER_ACTIVITY, USER_COLLECTION
from spark_jobs.scoring.rankers.base import ItemContent
from spark_jobs.scoring.rankers.split import MIN_ITEMS
from spark_jobs.scoring.recommend import find_sorted

CSV_HEADER = ("user", "item", "timestamp")
WEIGHTS = (1e-6, 1e6)
"""The weights a file may give: positive, and within what the float32 models hold (a weight
beyond these rounds to 0 or overflows iALS's factors)."""
FETCH_SIZE = 5000


class InteractionsError(ValueError):
    """A source that cannot be read; the message names the file and line or the table."""


@dataclass(frozen=True)
class Interactions:
    """Interactions over numbered users and items.

    Attributes:
        user_ids: Original id of each user row.
        item_ids: Original id of each item row.
        users: User row of each interaction.
        items: Item row of each interaction.
        times: Seconds since the epoch of each interaction.
        weights: Weight of each interaction (1.0 when the source has none).
        content: Item content, aligned with ``item_ids`` (None for interaction-only data).
        activity: Views, plays and wants as (user rows, item rows, times), if the source has
            them.

    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    users: np.ndarray
    items: np.ndarray
    times: np.ndarray
    weights: np.ndarray
    content: ItemContent | None = None
    activity: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(users, items)."""
        return len(self.user_ids), len(self.item_ids)

    def matrices(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The user-item weights and the add times, as CSR with the same sparsity.

        A (user, item) pair that occurs more than once keeps its latest time and the sum of its
        weights.
        """
        order, starts = _pair_runs(self.users, self.items, self.times)
        users, items = self.users[order], self.items[order]
        times, weights = self.times[order], self.weights[order]
        last = np.ones(len(users), dtype=bool)
        last[:-1] = starts[1:]
        summed = np.bincount(np.cumsum(starts) - 1, weights=weights)
        shape = self.shape
        values = sp.csr_matrix((summed.astype(np.float32), (users[last], items[last])), shape)
        stamps = sp.csr_matrix((times[last].astype(np.float64), (users[last], items[last])), shape)
        return values, stamps

    def testable(self) -> bool:
        """Whether some user has the :data:`~.split.MIN_ITEMS` distinct items of a test user."""
        pairs = np.unique(np.stack([self.users, self.items]), axis=1)
        return bool((np.bincount(pairs[0]) >= MIN_ITEMS).any())

    def activity_before(
        self, cuts: np.ndarray
    ) -> tuple[sp.csr_matrix, sp.csr_matrix] | tuple[None, None]:
        """Activity of each user row strictly before that user's cut.

        Args:
            cuts: One time per user row (:meth:`~spark_jobs.scoring.rankers.split.Split.cuts`).

        Returns:
            Event counts per (user row, item row), and the time of each pair's first event
            (same sparsity); ``(None, None)`` without activity.

        """
        if self.activity is None:
            return None, None
        users, items, times = self.activity
        known = times < cuts[users]
        users, items, times = users[known], items[known], times[known]
        order, starts = _pair_runs(users, items, times)
        users, items, times = users[order], items[order], times[order]
        events = np.bincount(np.cumsum(starts) - 1).astype(np.float32)
        where = (users[starts], items[starts])
        counts = sp.csr_matrix((events, where), self.shape)
        first = sp.csr_matrix((times[starts], where), self.shape)
        return counts, first


def _pair_runs(
    users: np.ndarray, items: np.ndarray, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The order sorting events by user, item and time, and where each (user, item) run starts.

    Returns:
        The sorting order, and a mask over the sorted events, true at each pair's first event.

    """
    order = np.lexsort((times, items, users))
    users, items = users[order], items[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = (users[1:] != users[:-1]) | (items[1:] != items[:-1])
    return order, starts


def number(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ids and the row of each input id among them."""
    distinct, rows = np.unique(ids, return_inverse=True)
    return distinct, rows.reshape(-1)


def _parse_time(text: str, line: int, path: Path) -> float:
    try:
        value = float(text)
    except ValueError:
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise InteractionsError(
                f"{path}: line {line}: timestamp {text[:40]!r} is neither epoch seconds nor "
                "ISO-8601"
            ) from None
    if not math.isfinite(value):
        raise InteractionsError(f"{path}: line {line}: timestamp {text[:40]!r} is not finite")
    return value


def _csv_rows(path: Path) -> Iterator[tuple[str, str, float, float]]:
    """The rows of an interactions CSV, checked; errors name the line."""
    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed below
    except OSError as error:
        raise InteractionsError(f"{path}: cannot read: {error.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise InteractionsError(f"{path}: empty file, expected a header") from None
        except (csv.Error, UnicodeDecodeError) as error:
            raise InteractionsError(f"{path}: line 1: {error}") from None
        if tuple(header[:3]) != CSV_HEADER or len(header) > 4 or header[3:] not in ([], ["weight"]):
            raise InteractionsError(
                f"{path}: line 1: header must be 'user,item,timestamp' with an optional "
                f"'weight', got {','.join(header)[:80]!r}"
            )
        width = len(header)
        try:
            for row in reader:
                line = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != width:
                    raise InteractionsError(
                        f"{path}: line {line}: expected {width} fields, got {len(row)}"
                    )
                user, item = row[0].strip(), row[1].strip()
                if not user or not item:
                    raise InteractionsError(f"{path}: line {line}: empty user or item")
                weight = 1.0
                if width == 4:
                    try:
                        weight = float(row[3])
                    except ValueError:
                        raise InteractionsError(
                            f"{path}: line {line}: weight {row[3][:40]!r} is not a number"
                        ) from None
                    if not WEIGHTS[0] <= weight <= WEIGHTS[1]:
                        raise InteractionsError(
                            f"{path}: line {line}: weight {row[3][:40]!r} must be within "
                            f"{WEIGHTS[0]:g}..{WEIGHTS[1]:g}"
                        )
                yield user, item, _parse_time(row[2].strip(), line, path), weight
        except (csv.Error, UnicodeDecodeError) as error:
            raise InteractionsError(f"{path}: line {reader.line_num}: {error}") from None


def read_csv(path: Path) -> Interactions:
    """Read ``user,item,timestamp[,weight]`` rows (ids are any strings; times epoch or ISO).

    Raises:
        InteractionsError: The first problem, with its line number.

    """
    rows = list(_csv_rows(path))
    if not rows:
        raise InteractionsError(f"{path}: no interactions after the header")
    users, user_rows = number(np.array([r[0] for r in rows]))
    items, item_rows = number(np.array([r[1] for r in rows]))
    return Interactions(
        user_ids=users,
        item_ids=items,
        users=user_rows,
        items=item_rows,
        times=np.array([r[2] for r in rows], dtype=np.float64),
        weights=np.array([r[3] for r in rows], dtype=np.float32),
    )


def catalog_content(catalog: ReleaseCatalog) -> ItemContent:
    """The content matrices of a catalogue's releases, in catalogue order."""
    return ItemContent.from_catalog(catalog)


def catalog_rows(catalog: ReleaseCatalog, release_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Catalogue positions of release ids, and whether each id is in the catalogue."""
    order = np.argsort(catalog.release_ids, kind="stable")
    at, known = find_sorted(catalog.release_ids[order], release_ids)
    return order[at], known


def _paged(session: Any, cql: str) -> Iterator[Any]:
    statement = session.prepare(cql)
    statement.fetch_size = FETCH_SIZE
    yield from session.execute(statement, timeout=300)


def read_cassandra(settings: Settings) -> Interactions:
    """Read the live collections, release content and recent activity.

    The collections are ``user_collection`` with ``added_at``; everything is read with paged
    prepared statements.

    Raises:
        InteractionsError: The keyspace holds no collection.

    """
    keyspace = settings.keyspace
    catalog = load_cassandra(settings)
    with session_scope(settings) as session:
        pairs = [
            (r.user_id, r.release_id, r.added_at.timestamp() if r.added_at else 0.0)
            for r in _paged(session, USER_COLLECTION.select(keyspace))
        ]
        activity = [
            (r.user_id, r.release_id, r.event_time.timestamp())
            for r in _paged(
                session, USER_ACTIVITY.select(keyspace, ["user_id", "release_id", "event_time"])
            )
        ]
    if not pairs:
        raise InteractionsError(f"{keyspace}.user_collection holds no collection")
    user_ids, users = number(np.array([p[0] for p in pairs], dtype=np.int64))
    items, known = catalog_rows(catalog, np.array([p[1] for p in pairs], dtype=np.int64))
    return Interactions(
        user_ids=user_ids,
        item_ids=catalog.release_ids,
        users=users[known],
        items=items[known],
        times=np.array([p[2] for p in pairs], dtype=np.float64)[known],
        weights=np.ones(int(known.sum()), dtype=np.float32),
        content=catalog_content(catalog),
        activity=_activity_rows(activity, user_ids, catalog),
    )


def _activity_rows(
    activity: list[tuple[int, int, float]], user_ids: np.ndarray, catalog: ReleaseCatalog
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Activity of known users on catalogue releases as (user rows, item rows, times)."""
    if not activity:
        return None
    users, user_known = find_sorted(user_ids, np.array([a[0] for a in activity], dtype=np.int64))
    items, item_known = catalog_rows(catalog, np.array([a[1] for a in activity], dtype=np.int64))
    known = user_known & item_known
    times = np.array([a[2] for a in activity], dtype=np.float64)
    return users[known], items[known], times[known]
