"""Parse ``<release>`` records out of a Discogs dump, block by block, with flat memory.

The dump is cut into blocks of whole records (:func:`~discogs_parser.source.cut_blocks`); each
block is parsed by libxml2 in one call (:func:`parse_block`, faster than an event per record)
and its records are turned into :class:`~discogs_parser.model.Release` objects. Blocks can be
parsed in any process; :class:`ParseStats` merges their counts in file order, so the counts,
the logged bad records and the error of a truncated or corrupt file are the same whether one
process parses the file or several. A block that is not well-formed is parsed again record by
record up to the error, so every complete record before it still comes out.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from discogs_parser.fields import BadField, parse_bool, parse_id, parse_year
from discogs_parser.model import Artist, Format, Label, Release
from discogs_parser.source import Block, DumpSource, InputFailed, cut_blocks, open_dump
from discorecs.core.genres import GENRE_INDEX
from discorecs.core.logs import get_logger
from discorecs.core.settings import LoaderSettings

log = get_logger("discogs_parser")

MAX_LOGGED_BAD = 100
BLOCK_BYTES: int = LoaderSettings.model_fields["block_bytes"].default
"""Decompressed bytes per block when no setting says otherwise (the ``loader`` setting's)."""

# Children of <release> that discorecs stores; the others are never turned into Python objects.
_USED = (
    "artists",
    "title",
    "labels",
    "formats",
    "genres",
    "styles",
    "country",
    "released",
    "data_quality",
    "master_id",
    "tracklist",
)
_ARTIST_PARTS = ("id", "name", "anv", "join")
_LINE = re.compile(r"\bline (\d+)")


class ParseStopped(Exception):
    """The dump is truncated or corrupt; parsing stopped after the last complete record."""


@dataclass
class BadRecord:
    """A skipped record: its position in the file, its raw id and why it was skipped."""

    ordinal: int
    line: int | None
    raw_id: str | None
    reason: str


def _id(text: str | None, name: str) -> int | None:
    """:func:`parse_id` with a fast path for a clean id of up to 18 digits."""
    if text and len(text) < 19 and text.isdigit() and text.isascii():
        return int(text) or None
    return parse_id(text, name)


def _texts(parent: etree._Element, tag: str) -> tuple[str, ...]:
    texts = []
    for node in parent.iterchildren(tag):
        text = node.text
        if text:
            text = text.strip()
            if text:
                texts.append(text)
    return tuple(texts)


def _artists(parent: etree._Element) -> tuple[Artist, ...]:
    artists = []
    for node in parent.iterchildren("artist"):
        artist_id = name = anv = join = None
        for part in node.iterchildren(*_ARTIST_PARTS):
            tag = part.tag
            if tag == "name":
                name = part.text
            elif tag == "id":
                artist_id = part.text
            elif tag == "anv":
                anv = part.text
            else:
                join = part.text
        artists.append(
            Artist(
                _id(artist_id, "artist id"),
                name.strip() if name else "",
                anv.strip() if anv else "",
                join.strip() if join else "",
            )
        )
    return tuple(artists)


def _labels(parent: etree._Element) -> tuple[Label, ...]:
    labels = []
    for node in parent.iterchildren("label"):
        get = node.get
        labels.append(
            Label(get("name", "").strip(), get("catno", "").strip(), _id(get("id"), "label id"))
        )
    return tuple(labels)


def _formats(parent: etree._Element) -> tuple[Format, ...]:
    formats = []
    for node in parent.iterchildren("format"):
        descriptions: tuple[str, ...] = ()
        for child in node.iterchildren("descriptions"):
            descriptions = _texts(child, "description")
        get = node.get
        formats.append(
            Format(
                get("name", "").strip(),
                _id(get("qty"), "format qty"),
                get("text", "").strip(),
                descriptions,
            )
        )
    return tuple(formats)


def release_from_element(elem: etree._Element) -> Release:
    """Build a :class:`Release` from one ``<release>`` element.

    Children are visited once, in any order; unknown children are ignored, and the ones
    discorecs does not store (images, notes, tracks …) are skipped inside libxml2.

    Args:
        elem: A complete ``<release>`` element.

    Returns:
        The typed release.

    Raises:
        BadField: The id is missing or not numeric, or a numeric field is not a number.

    """
    raw_id = elem.get("id")
    release_id = _id(raw_id, "release id")
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
    for child in elem.iterchildren(*_USED):
        tag = child.tag
        if tag == "artists":
            artists = _artists(child)
        elif tag == "title":
            text = child.text
            title = text.strip() if text else ""
        elif tag == "labels":
            labels = _labels(child)
        elif tag == "formats":
            formats = _formats(child)
        elif tag == "genres":
            genres = _texts(child, "genre")
        elif tag == "styles":
            styles = _texts(child, "style")
        elif tag == "country":
            text = child.text
            country = text.strip() or None if text else None
        elif tag == "released":
            text = child.text
            released = text.strip() or None if text else None
        elif tag == "data_quality":
            text = child.text
            data_quality = text.strip() or None if text else None
        elif tag == "master_id":
            master_id = _id(child.text, "master_id")
            is_main_release = parse_bool(child.get("is_main_release"), "is_main_release")
        else:
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


@dataclass
class BlockResult:
    """What parsing one block gave.

    Attributes:
        index: The block's position in the file.
        releases: The good releases, in file order.
        good: How many good releases the block held (kept when ``releases`` is emptied).
        records: ``<release>`` elements seen, good or bad.
        bad: The skipped records (ordinals counted from the block's first record).
        unknown_genres: ``(genre, release id)`` of each genre outside the 15, in order.
        last_id: Id of the last good release.
        last_line: File line of the last good release.
        error: Why the block stopped early (``None`` when it parsed to its end).
        error_line: File line of the error, when known.

    """

    index: int
    releases: list[Release]
    good: int
    records: int
    bad: list[BadRecord]
    unknown_genres: list[tuple[str, int]]
    last_id: int | None
    last_line: int | None
    error: str | None = None
    error_line: int | None = None

    def keep_first(self, n: int) -> None:
        """Keep the first ``n`` (at most ``len(releases)``) good releases and the records before.

        As if the block ended after the ``n``-th: its error, bad records and unknown genres
        beyond it are never reached.
        """
        bad_at = {bad.ordinal for bad in self.bad}
        seen = good = 0
        while good < n:
            seen += 1
            good += seen not in bad_at
        kept = {release.release_id for release in self.releases[:n]}
        self.releases = self.releases[:n]
        self.good = n
        self.records = seen
        self.bad = [bad for bad in self.bad if bad.ordinal <= seen]
        self.unknown_genres = [(g, r) for g, r in self.unknown_genres if r in kept]
        self.last_id = self.releases[-1].release_id if self.releases else None
        self.error = self.error_line = None


def _records(block: Block) -> tuple[list[etree._Element], etree.XMLSyntaxError | None]:
    """The block's ``<release>`` elements, and the syntax error that ended them early."""
    tail = b"" if block.last else block.tail
    parser = etree.XMLParser(huge_tree=True, remove_comments=True)
    try:
        parser.feed(block.head)
        parser.feed(block.data)
        parser.feed(tail)
        return list(parser.close().iterchildren("release")), None
    except etree.XMLSyntaxError:
        pass
    records: list[etree._Element] = []
    document = io.BytesIO(block.head + block.data + tail)
    events = etree.iterparse(
        document, events=("end",), tag="release", huge_tree=True, remove_comments=True
    )
    try:
        for _, elem in events:
            records.append(elem)
    except etree.XMLSyntaxError as exc:
        return records, exc
    raise AssertionError("a block that failed to parse parsed record by record")


def parse_block(block: Block) -> BlockResult:
    """Parse one block into releases, skipping (and describing) the bad records.

    Args:
        block: Whole records cut from a dump.

    Returns:
        The good releases and the block's counts; ``error`` is set when the block is not
        well-formed, after the records before the error.

    """
    elements, error = _records(block)
    releases: list[Release] = []
    bad: list[BadRecord] = []
    unknown: list[tuple[str, int]] = []
    last_line = None
    for ordinal, elem in enumerate(elements, 1):
        try:
            release = release_from_element(elem)
        except BadField as exc:
            line = block.file_line(elem.sourceline) if elem.sourceline else None
            bad.append(BadRecord(ordinal, line, elem.get("id"), str(exc)))
            continue
        for genre in release.genres:
            if genre not in GENRE_INDEX:
                unknown.append((genre, release.release_id))
        releases.append(release)
        last_line = elem.sourceline
    result = BlockResult(
        index=block.index,
        releases=releases,
        good=len(releases),
        records=len(elements),
        bad=bad,
        unknown_genres=unknown,
        last_id=releases[-1].release_id if releases else None,
        last_line=block.file_line(last_line) if last_line else None,
    )
    if error is not None:
        result.error = "XML syntax error: " + _LINE.sub(
            lambda m: f"line {block.file_line(int(m.group(1)))}", error.msg
        )
        result.error_line = block.file_line(error.position[0]) if error.position else None
    return result


@dataclass
class ParseStats:
    """Counts kept while parsing, merged from the blocks in file order.

    Attributes:
        releases: Good releases.
        skipped: Bad records skipped.
        records: ``<release>`` elements seen, good or bad.
        unknown_genres: Genre entries outside the 15 Discogs genres, by spelling.
        last_id: Id of the last good release.
        last_line: Source line of the last good release.
        bad: The first :data:`MAX_LOGGED_BAD` skipped records.

    """

    releases: int = 0
    skipped: int = 0
    records: int = 0
    unknown_genres: Counter[str] = field(default_factory=Counter)
    last_id: int | None = None
    last_line: int | None = None
    bad: list[BadRecord] = field(default_factory=list)

    @property
    def unknown_genre_count(self) -> int:
        """Number of unknown genre entries (not distinct spellings)."""
        return sum(self.unknown_genres.values())

    def add(self, result: BlockResult) -> None:
        """Count the next block's result, logging its bad records and new unknown genres.

        Args:
            result: The block's result (its ``releases`` may have been emptied).

        """
        for bad in result.bad:
            self.skipped += 1
            bad.ordinal += self.records
            if len(self.bad) < MAX_LOGGED_BAD:
                self.bad.append(bad)
                log.warning(
                    "bad_record",
                    record=bad.ordinal,
                    line=bad.line,
                    id=bad.raw_id,
                    reason=bad.reason,
                )
        for genre, release_id in result.unknown_genres:
            if genre not in self.unknown_genres:
                log.warning("unknown_genre", genre=genre, release_id=release_id)
            self.unknown_genres[genre] += 1
        self.records += result.records
        self.releases += result.good
        if result.good:
            self.last_id = result.last_id
            self.last_line = result.last_line


@dataclass(frozen=True)
class StopPoint:
    """Where in the file parsing stopped: for the one-line error.

    Attributes:
        reason: What went wrong.
        line: File line of the error, None when not known.
        raw_position: Bytes of the file read by then.
        xml_position: Decompressed bytes read by then.

    """

    reason: str
    line: int | None
    raw_position: int
    xml_position: int

    @classmethod
    def of_block(cls, result: BlockResult, block_raw: int, block_xml: int) -> StopPoint:
        """The stop of a block that is not well-formed, cut at the given positions."""
        return cls(result.error or "", result.error_line, block_raw, block_xml)

    @classmethod
    def of_input(cls, failure: InputFailed) -> StopPoint:
        """The stop of a file that could not be read to its end."""
        return cls(str(failure), None, failure.raw_position, failure.xml_position)

    def message(self, path: Path, source: DumpSource, stats: ParseStats) -> str:
        """Render the one-line error: file, line, byte position, reason, last good release."""
        offset = f"byte {self.raw_position} of {source.total_bytes}"
        if source.is_gzip:
            offset = f"compressed {offset} (xml byte {self.xml_position})"
        line_text = f"at line {self.line}" if self.line else f"after line {stats.last_line or 0}"
        last = ": none before it" if stats.last_id is None else f" id={stats.last_id}"
        return f"{path.name}: stopped {line_text}, {offset}: {self.reason}; last good release{last}"


class ReleaseReader:
    """Iterate the good releases of one dump in this process, keeping counts in :attr:`stats`.

    Bad records are skipped and logged (the first :data:`MAX_LOGGED_BAD`); unknown genres are
    kept and logged once per spelling. Iterate once.

    Args:
        path: A ``.xml`` or ``.xml.gz`` releases dump.
        block_bytes: Decompressed bytes parsed at a time.

    """

    def __init__(self, path: Path, block_bytes: int = BLOCK_BYTES) -> None:
        self.path = path
        self.block_bytes = block_bytes
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
            try:
                for block in cut_blocks(source, self.block_bytes):
                    result = parse_block(block)
                    self.stats.add(result)
                    yield from result.releases
                    if result.error is not None:
                        stop = StopPoint.of_block(result, block.raw_position, block.xml_position)
                        raise ParseStopped(stop.message(self.path, source, self.stats))
            except InputFailed as failure:
                stop = StopPoint.of_input(failure)
                raise ParseStopped(stop.message(self.path, source, self.stats)) from None
