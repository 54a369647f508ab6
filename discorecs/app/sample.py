"""The Discogs sample shipped with the package: 800 real releases for the demo and load tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import as_file, files
from pathlib import Path

SAMPLE_RELEASES = files("discorecs.app") / "data" / "releases-sample.xml.gz"


@contextmanager
def sample_releases() -> Iterator[Path]:
    """Yield a filesystem path of the shipped ``releases-sample.xml.gz``."""
    with as_file(SAMPLE_RELEASES) as path:
        yield path
