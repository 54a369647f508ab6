"""The release catalogue in columnar form: ids with genres, styles, artists, labels, years.

It comes from the Cassandra ``releases`` table, from the parser's JSONL output
(``discorecs parse releases PATH --jsonl OUT --no-load``), or is built directly by tests.
Genres outside :data:`discorecs.core.genres.GENRES` are ignored; a release with no known genre
is left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from discorecs.core.cassandra import session_scope
from discorecs.core.genres import GENRE_INDEX
from discorecs.core.logs import get_logger
from discorecs.core.settings import Settings
from discorecs.core.tables import RELEASES

log = get_logger("catalog")

CATALOG_COLUMNS = ("release_id", "genres", "styles", "artists", "labels", "year")
"""The ``releases`` columns the catalogue reads."""


class Record(NamedTuple):
    """One release as the catalogue takes it."""

    release_id: int
    genres: Iterable[str] | None
    styles: Iterable[str] | None
    artists: Iterable[str] | None = ()
    labels: Iterable[str] | None = ()
    year: int | None = None


@dataclass(frozen=True)
class Tags:
    """Names per release as CSR.

    Release ``i`` has ``names[j]`` for each ``j`` in ``idx[ptr[i]:ptr[i + 1]]`` (distinct).
    """

    ptr: np.ndarray
    idx: np.ndarray
    names: tuple[str, ...]

    def counts(self) -> np.ndarray:
        """Names per release."""
        return np.diff(self.ptr)


class _TagsBuilder:
    """Accumulates :class:`Tags` release by release, numbering new names as they come."""

    def __init__(self, vocabulary: dict[str, int] | None = None) -> None:
        self.fixed = vocabulary is not None
        self.vocabulary: dict[str, int] = dict(vocabulary or {})
        self.ptr: list[int] = [0]
        self.idx: list[int] = []

    def known(self, names: Iterable[str] | None) -> list[int]:
        """The numbers of the names (unknown ones dropped when the vocabulary is fixed)."""
        listed = () if names is None else names
        if self.fixed:
            return sorted({self.vocabulary[n] for n in listed if n in self.vocabulary})
        numbers: dict[int, None] = {}
        for name in listed:
            if name:
                numbers.setdefault(self.vocabulary.setdefault(name, len(self.vocabulary)))
        return list(numbers)

    def add(self, numbers: list[int]) -> None:
        """Append one release's numbers."""
        self.idx.extend(numbers)
        self.ptr.append(len(self.idx))

    def build(self) -> Tags:
        """The accumulated tags."""
        names = [""] * len(self.vocabulary)
        for name, number in self.vocabulary.items():
            names[number] = name
        return Tags(
            np.asarray(self.ptr, dtype=np.int64),
            np.asarray(self.idx, dtype=np.int32),
            tuple(names),
        )


@dataclass(frozen=True)
class ReleaseCatalog:
    """Releases in a compact columnar form.

    Attributes:
        release_ids: Release id of each release, ``int64``.
        genres: Genre numbers (into ``GENRES``) of each release.
        styles: Styles of each release.
        artists: Credited artists of each release, in credit order.
        labels: Labels of each release, in credit order.
        years: Release year, ``0`` when unknown.

    """

    release_ids: np.ndarray
    genres: Tags
    styles: Tags
    artists: Tags
    labels: Tags
    years: np.ndarray

    def __len__(self) -> int:
        """Return the number of releases."""
        return len(self.release_ids)

    @classmethod
    def from_records(cls, records: Iterable[Record | tuple[Any, ...]]) -> ReleaseCatalog:
        """Build a catalogue from :class:`Record` tuples (``(id, genres, styles)`` at least).

        Args:
            records: One tuple per release; releases with no known genre are skipped.

        Returns:
            The catalogue, in input order.

        """
        ids: list[int] = []
        years: list[int] = []
        genres = _TagsBuilder(GENRE_INDEX)
        styles, artists, labels = _TagsBuilder(), _TagsBuilder(), _TagsBuilder()
        for row in records:
            record = Record(*row)
            known = genres.known(record.genres)
            if not known:
                continue
            ids.append(int(record.release_id))
            year = record.year
            years.append(int(year) if year and year == year else 0)  # None, 0 or NaN: unknown
            genres.add(known)
            for builder, names in (
                (styles, record.styles),
                (artists, record.artists),
                (labels, record.labels),
            ):
                builder.add(builder.known(names))
        return cls(
            release_ids=np.asarray(ids, dtype=np.int64),
            genres=genres.build(),
            styles=styles.build(),
            artists=artists.build(),
            labels=labels.build(),
            years=np.asarray(years, dtype=np.int32),
        )


class CatalogError(ValueError):
    """A catalogue file that cannot be read; the message names the file and the line."""


def _json_record(obj: dict[str, Any]) -> Record:
    """A :class:`Record` from one parser JSONL object (artists and labels are credit dicts).

    Raises:
        ValueError: The release id is not a positive integer.

    """
    release_id = obj["release_id"]
    if type(release_id) is not int or release_id <= 0:
        raise ValueError(f"release_id {release_id!r} is not a positive integer")

    def names(credits: list[Any] | None) -> list[str]:
        return [c["name"] if isinstance(c, dict) else str(c) for c in credits or ()]

    return Record(
        release_id,
        obj.get("genres") or (),
        obj.get("styles") or (),
        names(obj.get("artists")),
        names(obj.get("labels")),
        obj.get("year"),
    )


def load_jsonl(path: str | Path) -> ReleaseCatalog:
    """Read the parser's JSONL output, one release object a line.

    Args:
        path: The JSONL file.

    Returns:
        The catalogue.

    Raises:
        CatalogError: A line is not a release object, or there is none; names the line.

    """

    def records() -> Iterable[Record]:
        number = 0
        try:
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    number += 1
                    if line.strip():
                        yield _json_record(json.loads(line))
        except json.JSONDecodeError as error:
            raise CatalogError(f"{path}: line {number}: bad JSON: {error.msg}") from None
        except UnicodeDecodeError:
            raise CatalogError(f"{path}: line {number + 1}: not UTF-8") from None
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise CatalogError(f"{path}: line {number}: not a release ({error!r})") from None

    catalog = ReleaseCatalog.from_records(records())
    if not len(catalog):
        raise CatalogError(f"{path}: no release with a known genre in the file")
    log.info("catalog_loaded", source=str(path), releases=len(catalog))
    return catalog


def load_cassandra(settings: Settings, *, fetch_size: int = 5000) -> ReleaseCatalog:
    """Read the catalogue's columns from the Cassandra ``releases`` table, paged.

    Args:
        settings: Where Cassandra listens and the keyspace.
        fetch_size: Rows per page.

    Returns:
        The catalogue.

    """
    with session_scope(settings) as session:
        statement = session.prepare(RELEASES.select(settings.keyspace, CATALOG_COLUMNS))
        statement.fetch_size = fetch_size
        rows = session.execute(statement, timeout=120)
        catalog = ReleaseCatalog.from_records(Record(*row) for row in rows)
    log.info("catalog_loaded", source="cassandra", releases=len(catalog))
    return catalog
