"""Small synthetic training sets shared by the ranker tests."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import ItemContent, TrainData

DAY = 86_400.0
GROUP_USERS = 20
GROUP_ITEMS = 12
OWNED = 6


def matrix(
    owned: dict[int, list[int]],
    shape: tuple[int, int],
    values: dict[tuple[int, int], float] | None = None,
) -> sp.csr_matrix:
    """CSR of ``{user: [items]}`` with 1.0 (or ``values[(user, item)]``) at each pair."""
    pairs = [(u, i) for u, items in owned.items() for i in items]
    data = [1.0 if values is None else values[p] for p in pairs]
    users = [p[0] for p in pairs]
    items = [p[1] for p in pairs]
    out = sp.csr_matrix((np.array(data), (users, items)), shape=shape)
    out.sort_indices()
    return out


def tag_matrix(tags: list[list[int]] | None, n: int) -> sp.csr_matrix:
    """``(n, tags)`` 0/1 from each item's tag numbers (one empty column when there are none)."""
    rows = tags or [[] for _ in range(n)]
    width = max([t for row in rows for t in row], default=0) + 1
    matrix = np.zeros((n, width), dtype=np.float32)
    for item, numbers in enumerate(rows):
        matrix[item, numbers] = 1.0
    return sp.csr_matrix(matrix)


def content(
    genres: list[list[int]],
    *,
    artists: list[list[int]] | None = None,
    styles: list[list[int]] | None = None,
    decades: list[int] | None = None,
) -> ItemContent:
    """Content of items given by genre numbers (1/k weights), optional artists and styles."""
    n = len(genres)
    weights = np.zeros((n, 15), dtype=np.float32)
    for item, numbers in enumerate(genres):
        weights[item, numbers] = 1.0 / len(numbers)
    return ItemContent(
        genres=sp.csr_matrix(weights),
        styles=tag_matrix(styles, n),
        decades=np.array(decades if decades is not None else [-1] * n, dtype=np.int64),
        artists=tag_matrix(artists, n),
        labels=tag_matrix(None, n),
    )


def train_data(
    owned: dict[int, list[int]],
    shape: tuple[int, int],
    *,
    times: dict[tuple[int, int], float] | None = None,
    item_content: ItemContent | None = None,
    activity: sp.csr_matrix | None = None,
) -> TrainData:
    """Training data of ``{user: [items]}``, added one day apart unless ``times`` says."""
    pairs = [(u, i) for u, items in owned.items() for i in items]
    stamps = times or {p: (k + 1) * DAY for k, p in enumerate(pairs)}
    user_items = matrix(owned, shape).astype(np.float32)
    added_at = matrix(owned, shape, stamps)
    now = float(added_at.data.max(initial=0.0))
    return TrainData(user_items, added_at, now, item_content, activity)


def two_groups(seed: int = 0) -> TrainData:
    """Two disjoint worlds: users 0..19 own 6 of items 0..11 (genre 0, artist 0), users
    20..39 own 6 of items 12..23 (genre 1, artist 1); every item has owners."""
    rng = np.random.default_rng(seed)
    owned: dict[int, list[int]] = {}
    for group in range(2):
        for user in range(GROUP_USERS):
            first = group * GROUP_ITEMS
            start = user % GROUP_ITEMS
            ring = [(start + k) % GROUP_ITEMS for k in range(GROUP_ITEMS)]
            picks = ring[:3] + sorted(rng.choice(ring[3:], OWNED - 3, replace=False).tolist())
            owned[group * GROUP_USERS + user] = sorted(first + p for p in picks)
    n_items = 2 * GROUP_ITEMS
    genres = [[0]] * GROUP_ITEMS + [[1]] * GROUP_ITEMS
    artists = [[0]] * GROUP_ITEMS + [[1]] * GROUP_ITEMS
    return train_data(
        owned,
        (2 * GROUP_USERS, n_items),
        item_content=content(genres, artists=artists, decades=[199] * n_items),
    )


def group_items(user: int) -> set[int]:
    """The items of the user's group in :func:`two_groups`."""
    first = (user // GROUP_USERS) * GROUP_ITEMS
    return set(range(first, first + GROUP_ITEMS))
