"""Where parsed releases go: sinks in two halves, a part where blocks are parsed and the sink here.

A sink's *part* is opened in each parser process (or in this one); it turns each block's
releases into a small receipt and stores them once the block is *committed*, i.e. once every
block before it has parsed cleanly, so a run stopped by a bad block stores nothing after it.
The sink itself gets the receipts in file order.
"""

from __future__ import annotations

import json
from typing import IO, Any, Protocol

from discogs_parser.model import Release


class SinkPart(Protocol):
    """The half of a sink that runs where blocks are parsed (a parser process, or this one)."""

    def write(self, index: int, releases: list[Release]) -> Any:
        """Take block ``index``'s releases, not yet final; return the receipt for the sink."""

    def commit(self, through: int) -> None:
        """Blocks up to ``through`` are final: store what was written for them."""

    def close(self) -> Any:
        """Wait until what was committed is stored, drop the rest, return final figures."""


class Sink(Protocol):
    """Somewhere releases go: a part per parser process, receipts here in file order."""

    def open(self) -> SinkPart:
        """Open a part; called in each parser process."""

    def accept(self, receipt: Any) -> None:
        """Take the receipt of the next block, in file order."""

    def finish(self, closings: list[Any]) -> None:
        """Take what the parts returned when they closed."""


class _JsonlPart:
    def write(self, index: int, releases: list[Release]) -> str:
        return "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in releases)

    def commit(self, through: int) -> None:
        """Nothing to store: the lines go to the sink."""

    def close(self) -> None:
        """Nothing to close."""


class JsonlSink:
    """Write one JSON object per release, a line each, to an open text stream.

    The lines are rendered in the parser processes and written here, in file order.
    """

    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def open(self) -> SinkPart:
        """A part that renders each block's releases as JSON lines."""
        return _JsonlPart()

    def accept(self, receipt: str) -> None:
        """Write a block's lines."""
        self._out.write(receipt)

    def finish(self, closings: list[Any]) -> None:
        """Flush the stream."""
        self._out.flush()


class _ListPart:
    def write(self, index: int, releases: list[Release]) -> list[Release]:
        return releases

    def commit(self, through: int) -> None:
        """Nothing to store: the releases go to the sink."""

    def close(self) -> None:
        """Nothing to close."""


class ListSink:
    """Keep the releases in memory, in file order (tests, benchmarks)."""

    def __init__(self) -> None:
        self.releases: list[Release] = []

    def open(self) -> SinkPart:
        """A part that hands the releases over as they are."""
        return _ListPart()

    def accept(self, receipt: list[Release]) -> None:
        """Append a block's releases."""
        self.releases.extend(receipt)

    def finish(self, closings: list[Any]) -> None:
        """Nothing to wait for."""
