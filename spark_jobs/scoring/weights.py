"""Release genre weights: a release with k genres gives 1/k to each; styles likewise."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from discorecs.core.genres import GENRE_INDEX, GENRES

N_GENRES = len(GENRES)


def genre_weights(genres: Iterable[str] | None) -> np.ndarray:
    """Weights over the 15 genres of one release.

    Args:
        genres: The release's Discogs genres; unknown names are ignored.

    Returns:
        A float32 vector of length 15 in :data:`discorecs.core.genres.GENRES` order that sums to 1,
        or all zeros when the release has no known genre.

    """
    vector = np.zeros(N_GENRES, dtype=np.float32)
    known = sorted({GENRE_INDEX[g] for g in (() if genres is None else genres) if g in GENRE_INDEX})
    if known:
        vector[known] = 1.0 / len(known)
    return vector


def style_weights(styles: Iterable[str] | None) -> dict[str, float]:
    """Weights over a release's styles, the finer axes kept alongside the genres.

    Args:
        styles: The release's Discogs styles.

    Returns:
        ``{style: 1/k}`` for its k distinct styles (empty when it has none).

    """
    distinct = sorted({s for s in (() if styles is None else styles) if s})
    return {style: 1.0 / len(distinct) for style in distinct}
