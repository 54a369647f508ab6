"""A made-up release catalogue shaped like Discogs, for tests, benchmarks and evaluation.

Genre frequencies follow the real dump's rough order (Electronic and Rock far ahead, Non-Music
and Brass & Military rare); each release has one genre, sometimes two, and one or two of that
genre's styles (named ``"<Genre> <k>"``, the low ``k`` more frequent). Artists and labels work
in one main genre and are Zipf-popular within it (a few prolific, most with one or two
releases); an artist is active around one era, so its releases' years cluster; labels span
eras. Years centre on a genre's heyday (:data:`GENRE_ERA`); a few are unknown.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from discorecs.core.catalog import Record, ReleaseCatalog
from discorecs.core.genres import GENRES

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
GENRE_ERA = {
    "Electronic": 2002,
    "Rock": 1986,
    "Pop": 1990,
    "Folk, World, & Country": 1978,
    "Jazz": 1968,
    "Funk / Soul": 1976,
    "Hip Hop": 2000,
    "Classical": 1980,
    "Latin": 1978,
    "Reggae": 1982,
    "Blues": 1970,
    "Stage & Screen": 1982,
    "Non-Music": 1985,
    "Children's": 1980,
    "Brass & Military": 1975,
}
"""Centre of each genre's release years."""
STYLES_PER_GENRE = 12
RELEASES_PER_ARTIST = 4
RELEASES_PER_LABEL = 10
ERA_SPREAD_YEARS = 12.0
"""Spread of the artists' eras around their genre's centre."""
CAREER_SPREAD_YEARS = 4.0
"""Spread of an artist's release years around its era."""
UNKNOWN_YEAR_SHARE = 0.04
FIRST_YEAR, LAST_YEAR = 1950, 2025


def _zipf_within(
    rng: np.random.Generator, owner_genre: np.ndarray, genre: np.ndarray
) -> np.ndarray:
    """For each release of ``genre``, an owner (artist or label) of that genre, Zipf-weighted."""
    chosen = np.empty(len(genre), dtype=np.int64)
    for g in range(len(GENRES)):
        owners = np.flatnonzero(owner_genre == g)
        releases = np.flatnonzero(genre == g)
        if len(releases) == 0:
            continue
        if len(owners) == 0:
            owners = np.array([rng.integers(len(owner_genre))])
        weights = 1.0 / np.arange(1, len(owners) + 1)
        chosen[releases] = rng.choice(owners, size=len(releases), p=weights / weights.sum())
    return chosen


def demo_records(n_releases: int, seed: int = 0, *, first_release_id: int = 1) -> Iterator[Record]:
    """Yield :class:`Record` tuples of ``n_releases`` Discogs-shaped releases.

    Args:
        n_releases: Number of releases.
        seed: Seed of every draw.
        first_release_id: Id of the first release; ids are consecutive.

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

    n_artists = max(1, n_releases // RELEASES_PER_ARTIST)
    artist_genre = rng.choice(len(GENRES), size=n_artists, p=shares)
    centre = np.array([GENRE_ERA[g] for g in GENRES], dtype=np.float64)
    artist_era = centre[artist_genre] + rng.normal(0.0, ERA_SPREAD_YEARS, size=n_artists)
    artist = _zipf_within(rng, artist_genre, main)
    featured = np.where(rng.random(n_releases) < 0.1, rng.integers(n_artists, size=n_releases), -1)
    n_labels = max(1, n_releases // RELEASES_PER_LABEL)
    label = _zipf_within(rng, rng.choice(len(GENRES), size=n_labels, p=shares), main)
    second_label = np.where(
        rng.random(n_releases) < 0.15, rng.integers(n_labels, size=n_releases), -1
    )
    years = artist_era[artist] + rng.normal(0.0, CAREER_SPREAD_YEARS, size=n_releases)
    years = np.clip(np.rint(years), FIRST_YEAR, LAST_YEAR).astype(np.int64)
    years[rng.random(n_releases) < UNKNOWN_YEAR_SHARE] = 0

    for i in range(n_releases):
        genre = GENRES[main[i]]
        genres = [genre, GENRES[second[i]]] if has_second[i] else [genre]
        names = [f"{genre} {k}" for k in styles[i, : 1 + int(has_two_styles[i])]]
        artists = [f"Artist {artist[i]}"] + ([f"Artist {featured[i]}"] if featured[i] >= 0 else [])
        labels = [f"Label {label[i]}"] + (
            [f"Label {second_label[i]}"] if second_label[i] >= 0 else []
        )
        yield Record(first_release_id + i, genres, names, artists, labels, int(years[i]) or None)


def demo_catalog(n_releases: int, seed: int = 0, *, first_release_id: int = 1) -> ReleaseCatalog:
    """The :class:`ReleaseCatalog` of :func:`demo_records`."""
    return ReleaseCatalog.from_records(
        demo_records(n_releases, seed, first_release_id=first_release_id)
    )
