"""Typed, immutable records of one Discogs release and its parts.

They are named tuples: immutable like frozen dataclasses, but several times cheaper to build
(a frozen dataclass sets each field through ``object.__setattr__``) and to pickle between the
parser processes, which matters at a few hundred thousand records a second.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

_SUFFIX = re.compile(r" \(\d+\)$")


def strip_suffix(name: str) -> str:
    """Drop Discogs' numeric disambiguation suffix: ``"Joe Smith (2)"`` -> ``"Joe Smith"``."""
    return _SUFFIX.sub("", name)


class Artist(NamedTuple):
    """One credited artist of a release.

    Attributes:
        artist_id: Discogs artist id; None when the credit is not linked (``0`` or absent).
        name: Name as stored by Discogs, disambiguation suffix such as ``" (2)"`` kept.
        anv: Artist name variation printed on the release, ``""`` when none.
        join: Text placed after this artist in the credit line, ``""`` when none.

    """

    artist_id: int | None
    name: str
    anv: str
    join: str

    @property
    def display_name(self) -> str:
        """Name as a credit line shows it: the variation if any, else the name without suffix."""
        return self.anv or strip_suffix(self.name)


class Label(NamedTuple):
    """One label credit (name and catalogue number) of a release."""

    name: str
    catno: str
    label_id: int | None


class Format(NamedTuple):
    """One format entry: ``2 x Vinyl, 12", 33 ⅓ RPM``."""

    name: str
    qty: int | None
    text: str
    descriptions: tuple[str, ...]

    def render(self) -> str:
        """Render the format as one line of text, e.g. ``2 x Vinyl, LP, Album``."""
        head = f"{self.qty} x {self.name}" if self.qty and self.qty > 1 else self.name
        return ", ".join([head, *self.descriptions, *([self.text] if self.text else [])])


class Release(NamedTuple):
    """One ``<release>`` record, with the fields discorecs stores and uses.

    Attributes:
        release_id: Discogs release id.
        status: ``@status`` (``Accepted`` …), None when absent.
        title: Release title, ``""`` when absent.
        artists: Main artist credits in order.
        labels: Label credits in order.
        formats: Format entries in order.
        genres: Genres in order; may hold strings outside :data:`discorecs.core.genres.GENRES`.
        styles: Styles in order (open vocabulary).
        country: Country or region, None when absent or empty.
        released: The raw ``<released>`` text (not a date: ``1999-00-00`` occurs).
        year: Year parsed from ``released``, None when absent or unparseable.
        master_id: Master release id, None when absent.
        is_main_release: ``@is_main_release`` of ``master_id``, None when absent.
        data_quality: ``Needs Vote``, ``Correct`` …, None when absent.
        track_count: Number of top-level tracklist entries (headings included).

    """

    release_id: int
    status: str | None
    title: str
    artists: tuple[Artist, ...]
    labels: tuple[Label, ...]
    formats: tuple[Format, ...]
    genres: tuple[str, ...]
    styles: tuple[str, ...]
    country: str | None
    released: str | None
    year: int | None
    master_id: int | None
    is_main_release: bool | None
    data_quality: str | None
    track_count: int

    @property
    def artist_names(self) -> list[str]:
        """Artist names as stored by Discogs, suffixes kept."""
        return [artist.name for artist in self.artists]

    @property
    def artist_credit(self) -> str:
        """The credit line built from display names and join strings: ``A & B Feat. C``."""
        parts: list[str] = []
        last = len(self.artists) - 1
        for i, artist in enumerate(self.artists):
            parts.append(artist.display_name)
            if i < last:
                join = artist.join.strip()
                parts.append(", " if join in ("", ",") else f" {join} ")
        return "".join(parts)

    @property
    def label_names(self) -> list[str]:
        """Label names in order."""
        return [label.name for label in self.labels]

    @property
    def catnos(self) -> list[str]:
        """Catalogue numbers, parallel to :attr:`label_names` (``none`` is Discogs' literal)."""
        return [label.catno for label in self.labels]

    @property
    def format_lines(self) -> list[str]:
        """Each format rendered as one line of text."""
        return [fmt.render() for fmt in self.formats]

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict: every field, plus the derived credit line."""
        data = self._asdict()
        data["artists"] = tuple(artist._asdict() for artist in self.artists)
        data["labels"] = tuple(label._asdict() for label in self.labels)
        data["formats"] = tuple(fmt._asdict() for fmt in self.formats)
        data["artist_credit"] = self.artist_credit
        return data
