"""Small hand-made worlds (collections and release features) shared by the scoring tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spark_jobs.scoring.recommend import Collections, ReleaseFeatures, Styles
from spark_jobs.scoring.weights import N_GENRES, genre_weights, style_weights


def collections(owned: dict[int, list[int]], n_users: int, n_releases: int) -> Collections:
    """The collections of ``{user row: [release rows]}``."""
    pairs = [(u, r) for u, rs in owned.items() for r in rs]
    users, releases = (np.array(x, dtype=np.int64) for x in zip(*pairs, strict=True))
    return Collections.from_pairs(users, releases, n_users, n_releases)


def genre_matrix(genres: Sequence[Sequence[str]]) -> np.ndarray:
    """``(releases, 15)`` genre weights of releases given by their genre names."""
    if not genres:
        return np.zeros((0, N_GENRES), dtype=np.float32)
    return np.stack([genre_weights(g) for g in genres])


def release_features(
    genres: Sequence[Sequence[str]],
    *,
    trending: Sequence[int] | None = None,
    owners: Sequence[int] | np.ndarray | None = None,
    styles: Sequence[Sequence[str]] | None = None,
) -> ReleaseFeatures:
    """Features of releases given by their genres (and optionally styles, owners, trending)."""
    n = len(genres)
    zeros = np.zeros(n, dtype=np.int64)
    if styles is None:
        style_columns = Styles.none(n)
    else:
        maps = [style_weights(s) for s in styles]
        style_columns = Styles.from_lists([list(m) for m in maps], [list(m.values()) for m in maps])
    return ReleaseFeatures(
        genre_matrix(genres),
        style_columns,
        zeros if owners is None else np.asarray(owners),
        zeros if trending is None else np.asarray(trending),
    )


def world(
    owned: dict[int, list[int]], genres: Sequence[Sequence[str]], n_users: int
) -> tuple[Collections, ReleaseFeatures]:
    """Collections and features where each release's owners are counted from the collections."""
    c = collections(owned, n_users, len(genres))
    return c, release_features(genres, owners=c.popularity())
