"""Rows for the releases table: values in the declared column order, and their size estimate."""

from discogs_parser import ReleaseReader
from discogs_parser.loader import release_row, row_bytes
from discorecs.core.tables import RELEASES
from tests.support import SAMPLE


def test_release_row_matches_the_columns() -> None:
    release = next(r for r in ReleaseReader(SAMPLE) if r.release_id == 21)
    row = dict(zip(RELEASES.column_names, release_row(release), strict=True))
    assert row["release_id"] == 21
    assert row["artists"] == ["E.B.E. (2)"] and row["artist_credit"] == "EBE"
    assert isinstance(row["genres"], set) and isinstance(row["styles"], set)
    assert len(row["labels"]) == len(row["catnos"])
    assert row["track_count"] == release.track_count


def test_row_bytes_counts_text_and_eight_per_number() -> None:
    assert row_bytes(("ab", ["x", "yz"], {"abc"}, 5, None, True)) == 2 + (3 + 8) + (3 + 8) + 3 * 8
