"""A made-up release catalogue shaped like Discogs, for tests and benchmarks without a dump.

Genre frequencies follow the real dump's rough order (Electronic and Rock far ahead, Non-Music and
Brass & Military rare); each release has one genre, sometimes two, and one or two of that
genre's styles (named ``"<Genre> <k>"``, the low ``k`` more frequent).
"""

from __future__ import annotations

import numpy as np

from discorecs.genres import GENRES
from kafka_producers.catalog import Catalog

GENRE_SHARES = {
    "Electronic": 24,
    "Rock": 24,
    "Pop": 12,
    "Folk, World, & Country": 7,
    "Jazz": 6,
    "Funk / Soul": 6,
    "Hip Hop": 4,
    "Classical": 4,
    "Latin": 3,
    "Reggae": 2,
    "Blues": 2,
    "Stage & Screen": 2,
    "Non-Music": 2,
    "Children's": 1,
    "Brass & Military": 1,
}
STYLES_PER_GENRE = 12


def demo_catalog(n_releases: int, seed: int = 0, *, first_release_id: int = 1) -> Catalog:
    """Build a Discogs-shaped catalogue of ``n_releases`` releases.

    Args:
        n_releases: Number of releases.
        seed: Seed of the genre/style draws.
        first_release_id: Id of the first release; ids are consecutive.

    Returns:
        The catalogue.

    """
    rng = np.random.default_rng(seed)
    shares = np.array([GENRE_SHARES[g] for g in GENRES], dtype=np.float64)
    shares /= shares.sum()
    style_p = 1.0 / np.arange(1, STYLES_PER_GENRE + 1)
    style_p /= style_p.sum()
    main = rng.choice(len(GENRES), size=n_releases, p=shares)
    second = rng.choice(len(GENRES), size=n_releases, p=shares)
    has_second = rng.random(n_releases) < 0.2
    styles = rng.choice(STYLES_PER_GENRE, size=(n_releases, 2), p=style_p)
    has_two_styles = rng.random(n_releases) < 0.4

    def records():
        for i in range(n_releases):
            genre = GENRES[main[i]]
            genres = [genre, GENRES[second[i]]] if has_second[i] else [genre]
            names = [f"{genre} {k}" for k in styles[i, : 1 + int(has_two_styles[i])]]
            yield first_release_id + i, genres, names

    return Catalog.from_records(records())
