"""Streaming parser for Discogs release dumps and its Cassandra loader.

Typical use::

    from discogs_parser import ReleaseReader

    reader = ReleaseReader(path)
    for release in reader:
        ...
"""

from discogs_parser.model import Artist, Format, Label, Release
from discogs_parser.parser import ParseStats, ParseStopped, ReleaseReader

__all__ = ["Artist", "Format", "Label", "ParseStats", "ParseStopped", "Release", "ReleaseReader"]
