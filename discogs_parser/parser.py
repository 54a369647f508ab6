"""Stream ``<release>`` records out of a Discogs dump with flat memory.

``lxml.etree.iterparse`` fires on each closed ``<release>``; the element is turned into a
:class:`~discogs_parser.model.Release`, then cleared together with its already-seen siblings, so
memory does not grow with the file. Only complete records are ever yielded: a truncated or
corrupt file raises :class:`ParseStopped` after the last good record.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from discogs_parser.fields import BadField, parse_bool, parse_id, parse_year
from discogs_parser.model import Artist, Format, Label, Release
from discogs_parser.source import DumpSource, open_dump
from discorecs.core.genres import GENRE_INDEX
from discorecs.core.logs import get_logger

log = get_logger("discogs_parser")

MAX_LOGGED_BAD = 100

# Children of <release> that discorecs does not store: skipped before any other test.
_UNUSED = frozenset({"images", "extraartists", "notes", "identifiers", "videos", "companies"})


class ParseStopped(Exception):
    """The dump is truncated or corrupt; parsing stopped after the last complete record."""


@dataclass
class BadRecord:
    """A skipped record: its position in the file, its raw id and why it was skipped."""

    ordinal: int
    line: int | None
    raw_id: str | None
    reason: str


@dataclass
class ParseStats:
    """Counts kept while parsing.

    Attributes:
        releases: Good releases yielded.
        skipped: Bad records skipped.
        unknown_genres: Genre entries outside the 15 Discogs genres, by spelling.
        last_id: Id of the last good release.
        last_line: Source line of the last good release.
        bad: The first :data:`MAX_LOGGED_BAD` skipped records.

    """

    releases: int = 0
    skipped: int = 0
    unknown_genres: Counter[str] = field(default_factory=Counter)
    last_id: int | None = None
    last_line: int | None = None
    bad: list[BadRecord] = field(default_factory=list)

    @property
    def unknown_genre_count(self) -> int:
        """Number of unknown genre entries (not distinct spellings)."""
        return sum(self.unknown_genres.values())


def _text(elem: etree._Element) -> str:
    return (elem.text or "").strip()


def _artists(parent: etree._Element) -> tuple[Artist, ...]:
    artists = []
    for node in parent.iterchildren("artist"):
        values = {child.tag: child.text for child in node}
        artists.append(
            Artist(
                artist_id=parse_id(values.get("id"), "artist id"),
                name=(values.get("name") or "").strip(),
                anv=(values.get("anv") or "").strip(),
                join=(values.get("join") or "").strip(),
            )
        )
    return tuple(artists)


def _labels(parent: etree._Element) -> tuple[Label, ...]:
    return tuple(
        Label(
            name=node.get("name", "").strip(),
            catno=node.get("catno", "").strip(),
            label_id=parse_id(node.get("id"), "label id"),
        )
        for node in parent.iterchildren("label")
    )


def _formats(parent: etree._Element) -> tuple[Format, ...]:
    formats = []
    for node in parent.iterchildren("format"):
        descriptions: tuple[str, ...] = ()
        for child in node:
            if child.tag == "descriptions":
                descriptions = _texts(child, "description")
        formats.append(
            Format(
                name=node.get("name", "").strip(),
                qty=parse_id(node.get("qty"), "format qty"),
                text=node.get("text", "").strip(),
                descriptions=descriptions,
            )
        )
    return tuple(formats)


def _texts(parent: etree._Element, tag: str) -> tuple[str, ...]:
    texts = [node.text.strip() for node in parent if node.tag == tag and node.text]
    return tuple(text for text in texts if text)


def release_from_element(elem: etree._Element) -> Release:
    """Build a :class:`Release` from one ``<release>`` element.

    Children are visited once, in any order; unknown children are ignored.

    Args:
        elem: A complete ``<release>`` element.

    Returns:
        The typed release.

    Raises:
        BadField: The id is missing or not numeric, or a numeric field is not a number.

    """
    raw_id = elem.get("id")
    release_id = parse_id(raw_id, "release id")
    if release_id is None:
        raise BadField("release id is missing" if not raw_id else f"release id is {raw_id!r}")
    title = ""
    artists: tuple[Artist, ...] = ()
    labels: tuple[Label, ...] = ()
    formats: tuple[Format, ...] = ()
    genres: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    country = released = data_quality = None
    master_id = is_main_release = None
    track_count = 0
    for child in elem:
        tag = child.tag
        if tag in _UNUSED:
            continue
        if tag == "artists":
            artists = _artists(child)
        elif tag == "title":
            title = _text(child)
        elif tag == "labels":
            labels = _labels(child)
        elif tag == "formats":
            formats = _formats(child)
        elif tag == "genres":
            genres = _texts(child, "genre")
        elif tag == "styles":
            styles = _texts(child, "style")
        elif tag == "country":
            country = _text(child) or None
        elif tag == "released":
            released = _text(child) or None
        elif tag == "data_quality":
            data_quality = _text(child) or None
        elif tag == "master_id":
            master_id = parse_id(child.text, "master_id")
            is_main_release = parse_bool(child.get("is_main_release"), "is_main_release")
        elif tag == "tracklist":
            track_count = len(child)
    return Release(
        release_id,
        elem.get("status"),
        title,
        artists,
        labels,
        formats,
        genres,
        styles,
        country,
        released,
        parse_year(released),
        master_id,
        is_main_release,
        data_quality,
        track_count,
    )


class ReleaseReader:
    """Iterate the good releases of one dump, keeping counts in :attr:`stats`.

    Bad records are skipped and logged (the first :data:`MAX_LOGGED_BAD`); unknown genres are
    kept and logged once per spelling. Iterate once.

    Args:
        path: A ``.xml`` or ``.xml.gz`` releases dump.

    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stats = ParseStats()
        self.source: DumpSource | None = None

    @property
    def bytes_read(self) -> int:
        """Bytes of the file on disk read so far (compressed bytes for ``.gz``)."""
        return self.source.bytes_read if self.source else 0

    def __iter__(self) -> Iterator[Release]:
        """Yield each good release in file order.

        Raises:
            ParseStopped: The file is truncated or not well-formed XML.

        """
        with open_dump(self.path) as source:
            self.source = source
            events = etree.iterparse(
                source.stream, events=("end",), tag="release", huge_tree=True, remove_comments=True
            )
            ordinal = 0
            try:
                for _, elem in events:
                    ordinal += 1
                    release = self._convert(elem, ordinal)
                    elem.clear(keep_tail=True)
                    while elem.getprevious() is not None:
                        del elem.getparent()[0]
                    if release is not None:
                        yield release
            except etree.XMLSyntaxError as exc:
                line = exc.position[0] if exc.position else None
                raise ParseStopped(self._where(f"XML syntax error: {exc.msg}", line)) from None
            except (EOFError, OSError, zlib.error) as exc:
                raise ParseStopped(self._where(f"unreadable input: {exc}", None)) from None

    def _convert(self, elem: etree._Element, ordinal: int) -> Release | None:
        stats = self.stats
        try:
            release = release_from_element(elem)
        except BadField as exc:
            self._skip(BadRecord(ordinal, elem.sourceline, elem.get("id"), str(exc)))
            return None
        for genre in release.genres:
            if genre not in GENRE_INDEX:
                if genre not in stats.unknown_genres:
                    log.warning("unknown_genre", genre=genre, release_id=release.release_id)
                stats.unknown_genres[genre] += 1
        stats.releases += 1
        stats.last_id = release.release_id
        stats.last_line = elem.sourceline
        return release

    def _skip(self, bad: BadRecord) -> None:
        self.stats.skipped += 1
        if len(self.stats.bad) < MAX_LOGGED_BAD:
            self.stats.bad.append(bad)
            log.warning(
                "bad_record",
                record=bad.ordinal,
                line=bad.line,
                id=bad.raw_id,
                reason=bad.reason,
            )

    def _where(self, reason: str, line: int | None) -> str:
        source = self.source
        stats = self.stats
        offset = f"byte {source.raw.position} of {source.total_bytes}" if source else "start"
        if source and source.is_gzip:
            offset = f"compressed {offset} (xml byte {source.xml.position})"
        line_text = f"at line {line}" if line else f"after line {stats.last_line or 0}"
        return (
            f"{self.path.name}: stopped {line_text}, {offset}: {reason}; "
            f"last good release id={stats.last_id}"
        )
