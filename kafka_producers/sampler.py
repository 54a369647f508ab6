"""Draw releases by bucket and decade with a Zipf-like popularity, many at once.

Every release gets a popularity ``1 / rank**exponent`` from a seeded random ranking. Buckets are
what a taste can aim at: the 15 genres (bucket ``g`` holds the releases with genre ``g``), every
(genre, style) pair seen in the catalogue, every artist and every label. Each bucket is split
into decade cells (the decades of the catalogue's years, plus one cell for an unknown year).

A draw for one event picks a decade cell of its bucket with probability proportional to the
cell's popularity mass times the user's affinity for that decade, then a release of the cell by
popularity. So the probability of release ``r`` from bucket ``b`` for a user with decade
affinity ``d`` is ``pop(r) d(slot(r)) / sum_s mass(b, s) d(s)``: the closed form the oracle
ranks by (:mod:`kafka_producers.oracle`). All cells are laid out in one array
whose cumulative weights run from ``c`` to ``c + 1`` inside cell ``c``, so drawing a million
releases is one ``searchsorted``.
"""

from __future__ import annotations

import numpy as np

from discorecs.core.catalog import ReleaseCatalog, Tags
from discorecs.core.genres import GENRES

GENRE, STYLE, ARTIST, LABEL = range(4)
"""Bucket kinds."""


def _tag_rows(tags: Tags) -> tuple[np.ndarray, np.ndarray]:
    """(release row, tag number) of every entry of a CSR of tags."""
    rows = np.repeat(np.arange(len(tags.ptr) - 1), tags.counts())
    return rows, tags.idx.astype(np.int64)


def _genre_style_pairs(catalog: ReleaseCatalog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(release row, genre, style) of every genre crossed with every style of a release."""
    genre_rows, genres = _tag_rows(catalog.genres)
    style_rows, styles = _tag_rows(catalog.styles)
    genre_counts = catalog.genres.counts()
    per_style = genre_counts[style_rows]
    pair_rows = np.repeat(style_rows, per_style)
    pair_styles = np.repeat(styles, per_style)
    first = catalog.genres.ptr[style_rows]
    offsets = np.arange(len(pair_rows)) - np.repeat(np.cumsum(per_style) - per_style, per_style)
    pair_genres = genres[np.repeat(first, per_style) + offsets]
    return pair_rows, pair_genres, pair_styles


class ReleaseSampler:
    """Bucketed, decade-aware, popularity-weighted release draws over one catalogue.

    Attributes:
        catalog: The catalogue drawn from.
        popularity: Popularity weight of each release (sums to 1).
        n_buckets: Number of buckets.
        bucket_kind: :data:`GENRE`, :data:`STYLE`, :data:`ARTIST` or :data:`LABEL`.
        bucket_genre: Genre of each genre or style bucket, -1 otherwise.
        bucket_tag: Style, artist or label number of each bucket, -1 for genre buckets.
        decades: The decade (``year // 10``) of each known-decade slot; the last slot is for
            releases of unknown year.
        release_slot: Decade slot of each release.
        cell_mass: ``(n_buckets, n_slots)`` popularity mass of each decade cell.

    """

    def __init__(self, catalog: ReleaseCatalog, rng: np.random.Generator, *, exponent: float = 1.0):
        """Lay out the buckets and their decade cells.

        Args:
            catalog: Releases to draw from (at least one).
            rng: Seeded generator for the popularity ranking.
            exponent: Zipf exponent of popularity by rank.

        """
        if len(catalog) == 0:
            raise ValueError("the release catalogue is empty")
        self.catalog = catalog
        n = len(catalog)
        ranks = rng.permutation(n) + 1
        weights = 1.0 / ranks.astype(np.float64) ** exponent
        self.popularity = weights / weights.sum()
        known = catalog.years > 0
        self.decades = np.unique(catalog.years[known] // 10)
        self.release_slot = np.full(n, len(self.decades), dtype=np.int64)
        self.release_slot[known] = np.searchsorted(self.decades, catalog.years[known] // 10)
        self.n_slots = len(self.decades) + 1
        members, buckets = self._buckets(catalog)
        self._layout_cells(members, buckets)

    def _buckets(self, catalog: ReleaseCatalog) -> tuple[np.ndarray, np.ndarray]:
        """Number the buckets; return (release row, bucket) of every membership."""
        genre_rows, genres = _tag_rows(catalog.genres)
        pair_rows, pair_genres, pair_styles = _genre_style_pairs(catalog)
        n_styles = max(len(catalog.styles.names), 1)
        keys, pair_bucket = np.unique(pair_genres * n_styles + pair_styles, return_inverse=True)
        artist_rows, artists = _tag_rows(catalog.artists)
        label_rows, labels = _tag_rows(catalog.labels)
        n_genres, n_pairs = len(GENRES), len(keys)
        n_artists, n_labels = len(catalog.artists.names), len(catalog.labels.names)
        self.n_buckets = n_genres + n_pairs + n_artists + n_labels
        self.bucket_kind = np.repeat(
            np.array([GENRE, STYLE, ARTIST, LABEL], dtype=np.int8),
            [n_genres, n_pairs, n_artists, n_labels],
        )
        no_genre = np.full(n_artists + n_labels, -1)
        self.bucket_genre = np.concatenate([np.arange(n_genres), keys // n_styles, no_genre])
        self.bucket_tag = np.concatenate(
            [np.full(n_genres, -1), keys % n_styles, np.arange(n_artists), np.arange(n_labels)]
        )
        self.artist_bucket0 = n_genres + n_pairs
        self.label_bucket0 = self.artist_bucket0 + n_artists
        members = np.concatenate([genre_rows, pair_rows, artist_rows, label_rows])
        buckets = np.concatenate(
            [
                genres,
                pair_bucket.reshape(-1) + n_genres,
                artists + self.artist_bucket0,
                labels + self.label_bucket0,
            ]
        )
        return members, buckets

    def _layout_cells(self, members: np.ndarray, buckets: np.ndarray) -> None:
        cells = buckets * self.n_slots + self.release_slot[members]
        order = np.lexsort((members, cells))
        self._members = members[order]
        self._bucket_of_member = buckets[order]
        member_cells = cells[order]
        member_weights = self.popularity[self._members]
        n_cells = self.n_buckets * self.n_slots
        mass = np.bincount(member_cells, member_weights, minlength=n_cells)
        self.cell_mass = mass.reshape(self.n_buckets, self.n_slots)
        cumulative = np.cumsum(member_weights)
        before = (np.cumsum(mass) - mass)[member_cells]
        within = (cumulative - before) / np.maximum(mass[member_cells], 1e-300)
        self._cumulative = np.maximum.accumulate(member_cells + within)
        self._cell_start = np.searchsorted(member_cells, np.arange(n_cells + 1))
        by_popularity = np.lexsort((-member_weights, member_cells))
        self._cell_popular = self._members[by_popularity]
        bucket_order = np.lexsort((members, buckets))
        self._bucket_members = members[bucket_order]
        self._bucket_start = np.searchsorted(buckets[bucket_order], np.arange(self.n_buckets + 1))

    def top_of_cells(self, cells: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``depth`` most popular releases of each cell, and the popularity just below.

        Returns:
            The releases of all the cells' tops, concatenated, and per cell the popularity of
            its ``depth + 1``-th release (0 when the cell has no more).

        """
        starts, ends = self._cell_start[cells], self._cell_start[cells + 1]
        stops = np.minimum(starts + depth, ends)
        releases = np.concatenate(
            [self._cell_popular[a:b] for a, b in zip(starts.tolist(), stops.tolist(), strict=True)]
        )
        has_next = stops < ends
        below = np.zeros(len(cells))
        below[has_next] = self.popularity[self._cell_popular[stops[has_next]]]
        return releases, below

    def in_bucket(self, bucket: int, releases: np.ndarray) -> np.ndarray:
        """Whether each release is a member of the bucket."""
        members = self._bucket_members[self._bucket_start[bucket] : self._bucket_start[bucket + 1]]
        if len(members) == 0:
            return np.zeros(len(releases), dtype=bool)
        at = np.minimum(np.searchsorted(members, releases), len(members) - 1)
        return members[at] == releases

    @property
    def bucket_mass(self) -> np.ndarray:
        """Popularity mass of each bucket."""
        return self.cell_mass.sum(axis=1)

    def genre_styles(self, genre: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the style buckets of one genre and their popularity masses.

        Args:
            genre: Genre index.

        Returns:
            ``(bucket_ids, masses)``, possibly empty.

        """
        ids = np.flatnonzero((self.bucket_genre == genre) & (self.bucket_kind == STYLE))
        return ids, self.bucket_mass[ids]

    def bucket_name(self, bucket: int) -> str:
        """``"Genre"``, ``"Genre/Style"``, ``"artist:Name"`` or ``"label:Name"``."""
        kind, tag = int(self.bucket_kind[bucket]), int(self.bucket_tag[bucket])
        if kind == GENRE:
            return GENRES[bucket]
        if kind == STYLE:
            return f"{GENRES[self.bucket_genre[bucket]]}/{self.catalog.styles.names[tag]}"
        if kind == ARTIST:
            return f"artist:{self.catalog.artists.names[tag]}"
        return f"label:{self.catalog.labels.names[tag]}"

    def draw(
        self,
        buckets: np.ndarray,
        affinity: np.ndarray,
        slot_uniforms: np.ndarray,
        uniforms: np.ndarray,
    ) -> np.ndarray:
        """Draw one release per bucket id: a decade cell, then a release of it by popularity.

        Args:
            buckets: Bucket id per draw (non-empty buckets only).
            affinity: ``(draws, n_slots)`` decade affinity of each draw's user (all ones: a
                plain popularity draw within the bucket).
            slot_uniforms: One uniform ``[0, 1)`` number per draw, for the decade cell.
            uniforms: One uniform ``[0, 1)`` number per draw, for the release within the cell.

        Returns:
            Release positions in the catalogue.

        """
        cumulative = np.cumsum(self.cell_mass[buckets] * affinity, axis=1)
        slots = (cumulative <= slot_uniforms[:, None] * cumulative[:, -1:]).sum(axis=1)
        slots = np.minimum(slots, self.n_slots - 1)
        targets = buckets * self.n_slots + slots + np.minimum(uniforms, 1.0 - 1e-12)
        # Sorted keys let searchsorted narrow each search from the last hit: ~3x faster.
        order = np.argsort(targets)
        positions = np.empty(len(targets), dtype=np.int64)
        positions[order] = np.searchsorted(self._cumulative, targets[order], side="right")
        return self._members[np.minimum(positions, len(self._members) - 1)]
