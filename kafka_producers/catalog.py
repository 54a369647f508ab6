"""The release catalogue the producer draws from: release ids with their genres and styles.

It comes from the Cassandra ``releases`` table, from the parser's JSONL output
(``discorecs parse releases PATH --jsonl OUT --no-load``), or is built directly by tests.
Genres outside :data:`discorecs.genres.GENRES` are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from discorecs.genres import GENRE_INDEX, GENRES
from discorecs.logs import get_logger
from discorecs.settings import Settings

log = get_logger("producers.catalog")

Record = tuple[int, Iterable[str], Iterable[str]]
"""One release: ``(release_id, genres, styles)``."""


@dataclass(frozen=True)
class Catalog:
    """Releases in a compact columnar form.

    Attributes:
        release_ids: Release id of each release, ``int64``.
        genre_ptr: CSR offsets into ``genre_idx`` (length ``n + 1``).
        genre_idx: Genre indices (into ``GENRES``) of all releases, concatenated.
        style_ptr: CSR offsets into ``style_idx`` (length ``n + 1``).
        style_idx: Style indices (into ``style_names``) of all releases, concatenated.
        style_names: The style vocabulary.

    """

    release_ids: np.ndarray
    genre_ptr: np.ndarray
    genre_idx: np.ndarray
    style_ptr: np.ndarray
    style_idx: np.ndarray
    style_names: tuple[str, ...]

    def __len__(self) -> int:
        """Return the number of releases."""
        return len(self.release_ids)

    @classmethod
    def from_records(cls, records: Iterable[Record]) -> Catalog:
        """Build a catalogue from ``(release_id, genres, styles)`` tuples.

        Args:
            records: One tuple per release; releases with no known genre are skipped.

        Returns:
            The catalogue, in input order.

        """
        ids: list[int] = []
        genre_ptr, genre_idx = [0], []
        style_ptr, style_idx = [0], []
        vocabulary: dict[str, int] = {}
        for release_id, genres, styles in records:
            known = sorted({GENRE_INDEX[g] for g in genres or () if g in GENRE_INDEX})
            if not known:
                continue
            ids.append(int(release_id))
            genre_idx.extend(known)
            genre_ptr.append(len(genre_idx))
            style_idx.extend(
                sorted({vocabulary.setdefault(s, len(vocabulary)) for s in styles or ()})
            )
            style_ptr.append(len(style_idx))
        return cls(
            release_ids=np.asarray(ids, dtype=np.int64),
            genre_ptr=np.asarray(genre_ptr, dtype=np.int64),
            genre_idx=np.asarray(genre_idx, dtype=np.int16),
            style_ptr=np.asarray(style_ptr, dtype=np.int64),
            style_idx=np.asarray(style_idx, dtype=np.int32),
            style_names=tuple(vocabulary),
        )

    def genres_of(self, i: int) -> list[str]:
        """Return the genre names of the release at position ``i``."""
        return [GENRES[g] for g in self.genre_idx[self.genre_ptr[i] : self.genre_ptr[i + 1]]]

    def styles_of(self, i: int) -> list[str]:
        """Return the style names of the release at position ``i``."""
        return [
            self.style_names[s] for s in self.style_idx[self.style_ptr[i] : self.style_ptr[i + 1]]
        ]

    def genre_matrix(self) -> np.ndarray:
        """Return a ``(n, 15)`` float matrix: each release's weight split evenly over its genres."""
        counts = np.diff(self.genre_ptr)
        rows = np.repeat(np.arange(len(self)), counts)
        matrix = np.zeros((len(self), len(GENRES)))
        matrix[rows, self.genre_idx] = 1.0 / counts[rows]
        return matrix


def load_jsonl(path: str | Path) -> Catalog:
    """Read the parser's JSONL output: ``release_id``, ``genres``, ``styles`` a line.

    Args:
        path: The JSONL file.

    Returns:
        The catalogue.

    """

    def records() -> Iterable[Record]:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    obj = json.loads(line)
                    yield obj["release_id"], obj.get("genres") or (), obj.get("styles") or ()

    catalog = Catalog.from_records(records())
    log.info("catalog_loaded", source=str(path), releases=len(catalog))
    return catalog


def load_cassandra(settings: Settings, *, fetch_size: int = 5000) -> Catalog:
    """Read release ids, genres and styles from the Cassandra ``releases`` table, paged.

    Args:
        settings: Where Cassandra listens and the keyspace.
        fetch_size: Rows per page.

    Returns:
        The catalogue.

    """
    from discorecs.cassandra import session_scope

    with session_scope(settings) as session:
        statement = session.prepare(
            f"SELECT release_id, genres, styles FROM {settings.keyspace}.releases"
        )
        statement.fetch_size = fetch_size
        rows = session.execute(statement, timeout=120)
        catalog = Catalog.from_records((r.release_id, r.genres, r.styles) for r in rows)
    log.info("catalog_loaded", source="cassandra", releases=len(catalog))
    return catalog
