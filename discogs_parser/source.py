"""Open ``.xml`` and ``.xml.gz`` dumps through one path, counting the bytes read of the total."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_GZIP_MAGIC = b"\x1f\x8b"


class CountingReader(io.RawIOBase):
    """A read-only stream that counts the bytes handed out by the stream it wraps."""

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self._inner = inner
        self.position = 0

    def readable(self) -> bool:
        """Report that the stream is readable."""
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Fill ``buffer`` from the wrapped stream and count the bytes."""
        data = self._inner.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.position += size
        return size

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes from the wrapped stream and count them."""
        data = self._inner.read(size)
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
        inner: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if is_gzip else raw  # type: ignore[assignment]
        xml = CountingReader(inner)
        yield DumpSource(
            stream=xml,  # type: ignore[arg-type]
            is_gzip=is_gzip,
            total_bytes=path.stat().st_size,
            raw=raw,
            xml=xml,
        )
