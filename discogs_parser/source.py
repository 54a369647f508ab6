"""Open ``.xml`` and ``.xml.gz`` dumps through one path and cut them into blocks of whole records.

Gzip is decompressed by zlib-ng (``zlib_ng.gzip_ng``, about 2.7x CPython's ``gzip`` here), since
the reading process decompresses for every parser process. The bytes read of the total are
counted for progress. A block is a run of complete
``<release>`` records that parses on its own inside the document's head (XML declaration, root
start tag) and the root's closing tag, so blocks can be parsed one by one, in any process, and
the records come out as a streaming parse of the whole file gives them. Cutting relies on
``</release>`` closing a record wherever it appears, as in the Discogs dumps (no CDATA sections
or comments holding that text).
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np
from zlib_ng import gzip_ng, zlib_ng

_GZIP_MAGIC = b"\x1f\x8b"
_READ_ERRORS: tuple[type[Exception], ...] = (
    EOFError,
    OSError,
    zlib.error,
    cast(type[Exception], zlib_ng.error),
)
"""What reading a truncated or corrupt dump raises (zlib-ng's stub types its error loosely)."""
READ_BYTES = 1 << 16
"""Most bytes asked of the decompressor at once: it hands out what it decompressed before a
truncation only when asked for little at a time."""


class CountingReader(io.RawIOBase):
    """A read-only stream that counts the bytes handed out by the stream it wraps.

    It reads with the wrapped stream's ``read1`` when it has one: one read of what lies
    beneath, so a decompressor that fails on a truncated file loses nothing it had already
    decompressed.
    """

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self._inner = inner
        self._read = getattr(inner, "read1", inner.read)
        self.position = 0

    def readable(self) -> bool:
        """Report that the stream is readable."""
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Fill ``buffer`` from the wrapped stream and count the bytes."""
        data = self._read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.position += size
        return size

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes from the wrapped stream and count them."""
        data = self._read(size)
        self.position += len(data)
        return data


@dataclass
class DumpSource:
    """An opened dump.

    Attributes:
        stream: The decompressed XML bytes; hand it to the XML parser.
        is_gzip: Whether the file is gzip-compressed (told by its magic bytes, not its name).
        total_bytes: Size of the file on disk (compressed size for ``.gz``).
        raw: Counter of bytes read from disk, i.e. progress towards ``total_bytes``.
        xml: Counter of decompressed XML bytes handed to the parser.

    """

    stream: BinaryIO
    is_gzip: bool
    total_bytes: int
    raw: CountingReader
    xml: CountingReader

    @property
    def bytes_read(self) -> int:
        """Bytes of the file on disk read so far."""
        return self.raw.position


@contextmanager
def open_dump(path: Path) -> Iterator[DumpSource]:
    """Open a Discogs dump, plain or gzip-compressed.

    Args:
        path: A ``.xml`` or ``.xml.gz`` file.

    Yields:
        The opened source; the file is closed on exit.

    """
    with path.open("rb") as handle:
        is_gzip = handle.read(2) == _GZIP_MAGIC
        handle.seek(0)
        raw = CountingReader(handle)
        inner: BinaryIO = gzip_ng.GzipFile(fileobj=raw, mode="rb") if is_gzip else raw  # type: ignore[assignment]
        xml = CountingReader(inner)
        yield DumpSource(
            stream=xml,  # type: ignore[arg-type]
            is_gzip=is_gzip,
            total_bytes=path.stat().st_size,
            raw=raw,
            xml=xml,
        )


_RECORD_START = re.compile(rb"<release[\s>/]")
_RECORD_END = b"</release>"
_START_TAG = re.compile(rb"<([^\s/>!?]+)")
_ROOT = b"releases"
HEAD_LIMIT = 16 << 20
"""Decompressed bytes read without finding a ``<release>`` record before the file is refused."""


class InputFailed(Exception):
    """The file could not be read (or decompressed) to its end.

    Attributes:
        raw_position: Bytes of the file read when it failed.
        xml_position: Decompressed bytes read when it failed.

    """

    def __init__(self, reason: str, raw_position: int, xml_position: int) -> None:
        super().__init__(reason)
        self.raw_position = raw_position
        self.xml_position = xml_position


@dataclass(frozen=True, slots=True)
class Block:
    """A run of whole ``<release>`` records, parsed on its own inside the document's frame.

    Attributes:
        index: Position of the block in the file, from 0.
        head: The document's bytes before its first record (XML declaration, root start tag).
        tail: The root's closing tag, appended unless the block is the last.
        data: The records, from the start of one to the end of another.
        first_line: Line of the file on which ``data`` starts.
        last: The block runs to the end of the file (the root's own closing tag included).
        raw_position: Bytes of the file read when the block was cut.
        xml_position: Decompressed bytes read when the block was cut.

    """

    index: int
    head: bytes
    tail: bytes
    data: bytes
    first_line: int
    last: bool
    raw_position: int
    xml_position: int

    def file_line(self, line: int) -> int:
        """Map a line of the parsed ``head + data + tail`` to the line of the file."""
        head_lines = self.head.count(b"\n")
        return line if line <= head_lines else line - head_lines - 1 + self.first_line


def cut_blocks(source: DumpSource, block_bytes: int) -> Iterator[Block]:
    """Cut the dump into blocks of about ``block_bytes`` bytes of whole records, in order.

    Each round reads ``block_bytes`` more and cuts right after the last ``</release>`` read; a
    record longer than that makes a longer block. The last block holds the rest of the file,
    whatever it is, so a truncated or malformed ending is found by the XML parser where a plain
    parse would find it. A file with no record at all is one last block without a head.

    Args:
        source: An opened dump.
        block_bytes: Decompressed bytes read at a time.

    Yields:
        The blocks; together their heads-less ``data`` is the whole decompressed file.

    Raises:
        InputFailed: Reading or decompressing failed; the whole records read before the
            failure were yielded first.

    """
    read = source.stream.read
    head: bytes | None = None
    tail = b""
    pending = b""
    line = 1
    index = 0
    while True:
        failure: Exception | None = None
        parts = [pending]
        size = len(pending)
        goal = size + block_bytes
        while size < goal:
            try:
                chunk = read(min(goal - size, READ_BYTES))
            except _READ_ERRORS as exc:
                failure = exc
                break
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
        pending = b"".join(parts)
        ended = failure is not None or size < goal
        if head is None:
            _check_root(source, pending)
            start = _RECORD_START.search(pending)
            if start is None and not ended:
                if size > HEAD_LIMIT:
                    raise InputFailed(
                        f"no <release> record in the first {HEAD_LIMIT >> 20} MiB",
                        source.raw.position,
                        source.xml.position,
                    )
                continue
            if start is not None:
                head, pending = pending[: start.start()], pending[start.start() :]
                tags = _START_TAG.findall(head)
                tail = b"</" + tags[-1] + b">" if tags else b""
                line += head.count(b"\n")
        if failure is not None:
            cut = pending.rfind(_RECORD_END)
            if head is not None and cut >= 0:
                yield _block(source, index, head, tail, pending[: cut + len(_RECORD_END)], line)
            raise InputFailed(
                f"unreadable input: {failure}", source.raw.position, source.xml.position
            )
        if ended:
            yield _block(source, index, head or b"", tail, pending, line, last=True)
            return
        cut = pending.rfind(_RECORD_END)
        if cut < 0:
            continue
        cut += len(_RECORD_END)
        data, pending = pending[:cut], pending[cut:]
        yield _block(source, index, head or b"", tail, data, line)
        index += 1
        line += newlines(data)


def _check_root(source: DumpSource, head: bytes) -> None:
    """Refuse a document whose root element is not ``<releases>``.

    Another Discogs dump (artists, labels, masters) has no ``<release>`` record to cut at, and
    would otherwise be read whole into memory before the parser found nothing in it.

    Raises:
        InputFailed: The root element is another one.

    """
    root = _START_TAG.search(head)
    if root is not None and root.group(1) != _ROOT:
        name = root.group(1)[:40].decode("utf-8", "replace")
        raise InputFailed(
            f"not a releases dump: its root element is <{name}>, not <releases>",
            source.raw.position,
            source.xml.position,
        )


def newlines(data: bytes) -> int:
    """The number of line feeds in ``data``.

    numpy compares the bytes in vectors; ``bytes.count`` tests one byte at a time for a
    one-byte needle, and over a whole dump that was an eighth of the reading process's time.

    Args:
        data: Any bytes.

    Returns:
        How many line feeds ``data`` holds.

    """
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n")))


def _block(
    source: DumpSource,
    index: int,
    head: bytes,
    tail: bytes,
    data: bytes,
    line: int,
    *,
    last: bool = False,
) -> Block:
    return Block(index, head, tail, data, line, last, source.raw.position, source.xml.position)
