"""The releases parser on the real Discogs sample: counts, field quirks, bad and broken input."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import pytest

from discogs_parser import ParseStopped, Release, ReleaseReader
from discorecs.core.genres import GENRES
from tests.support import SAMPLE, SHARED_SAMPLE

GENRE_COUNTS = {
    "Rock": 257,
    "Electronic": 250,
    "Pop": 152,
    "Folk, World, & Country": 88,
    "Classical": 54,
    "Jazz": 51,
    "Funk / Soul": 45,
    "Hip Hop": 36,
    "Stage & Screen": 29,
    "Latin": 27,
    "Blues": 20,
    "Reggae": 14,
    "Non-Music": 9,
    "Children's": 7,
    "Brass & Military": 1,
}


@pytest.fixture(scope="module")
def sample_xml() -> bytes:
    return gzip.decompress(SAMPLE.read_bytes())


@pytest.fixture(scope="module")
def releases() -> list[Release]:
    reader = ReleaseReader(SAMPLE)
    result = list(reader)
    assert reader.stats.skipped == 0
    assert reader.stats.unknown_genre_count == 0
    return result


def by_id(releases: list[Release]) -> dict[int, Release]:
    return {release.release_id: release for release in releases}


def split_records(xml: bytes) -> list[bytes]:
    """The sample's <release> records, each ending with its newline (notes span lines)."""
    body = xml.removeprefix(b"<releases>\n").removesuffix(b"</releases>\n")
    return [chunk + b"</release>\n" for chunk in body.split(b"</release>\n") if chunk]


def join_records(records: list[bytes]) -> bytes:
    return b"<releases>\n" + b"".join(records) + b"</releases>\n"


def line_of(xml: bytes, needle: bytes) -> int:
    return xml[: xml.index(needle)].count(b"\n") + 1


def write_variant(tmp_path: Path, xml: bytes, name: str = "variant.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(xml) if name.endswith(".gz") else xml)
    return path


def test_repo_copy_is_the_shared_sample() -> None:
    if SHARED_SAMPLE.exists():
        assert SAMPLE.read_bytes() == SHARED_SAMPLE.read_bytes()


def test_counts_match_the_sample_readme(releases: list[Release]) -> None:
    assert len(releases) == 800
    ids = [r.release_id for r in releases]
    assert len(set(ids)) == 800 and ids == sorted(ids)
    assert (ids[0], ids[-1]) == (1, 14220612)
    genres = Counter(g for r in releases for g in r.genres)
    assert dict(genres) == GENRE_COUNTS
    assert sum(genres.values()) == 1040
    assert set(genres) == set(GENRES)
    assert Counter(len(r.genres) for r in releases) == {1: 621, 2: 134, 3: 34, 4: 8, 5: 2, 7: 1}
    styles = Counter(s for r in releases for s in r.styles)
    assert len(styles) == 225
    assert styles.most_common(6) == [
        ("House", 58),
        ("Deep House", 57),
        ("Pop Rock", 48),
        ("Experimental", 41),
        ("Tech House", 38),
        ("Techno", 27),
    ]


def test_optional_fields_match_the_sample_readme(releases: list[Release]) -> None:
    assert sum(r.country is None for r in releases) == 23
    assert len({r.country for r in releases} - {None}) == 65
    assert sum(not r.styles for r in releases) == 113
    assert sum(r.released is None for r in releases) == 97
    assert sum(r.master_id is not None for r in releases) == 492
    assert Counter(r.is_main_release for r in releases if r.master_id) == {True: 136, False: 356}
    assert Counter(r.data_quality for r in releases) == {
        "Needs Vote": 717,
        "Correct": 72,
        "Needs Minor Changes": 7,
        "Complete and Correct": 4,
    }
    assert {r.status for r in releases} == {"Accepted"}
    assert sum(c == "none" for r in releases for c in r.catnos) == 99
    assert sum(r.track_count for r in releases) == 7019
    assert all(r.artists and r.labels and r.formats and r.genres for r in releases)


def test_first_release_fields(releases: list[Release]) -> None:
    first = releases[0]
    assert first.release_id == 1
    assert first.title == "Stockholm"
    assert first.artist_names == ["The Persuader"]
    assert first.artist_credit == "The Persuader"
    assert first.label_names == ["Svek"] and first.catnos == ["SK032"]
    assert first.format_lines == ['2 x Vinyl, 12", 33 \u2153 RPM']
    assert (first.country, first.released, first.year) == ("Sweden", "1999-03-00", 1999)
    assert (first.master_id, first.is_main_release) == (1660109, True)
    assert first.track_count == 6


def test_year_quirks_on_the_real_dates(releases: list[Release]) -> None:
    shapes = Counter(re.sub(r"\d", "9", r.released) for r in releases if r.released)
    assert shapes == {"9999": 455, "9999-99-99": 248}
    for release in releases:
        if release.released and release.released != "0000":
            assert release.year == int(release.released[:4])
    zero = [r for r in releases if r.released == "0000"]
    assert len(zero) == 1 and zero[0].year is None
    assert sum(r.released.endswith("-00-00") for r in releases if r.released) == 15
    assert sum(bool(re.fullmatch(r"\d{4}-\d\d-00", r.released or "")) for r in releases) == 62


def test_artist_suffixes_are_kept_and_credit_is_built(releases: list[Release]) -> None:
    suffixed = [a for r in releases for a in r.artist_names if re.search(r" \(\d+\)$", a)]
    assert len(suffixed) == 66
    ebe = by_id(releases)[21]
    assert ebe.artist_names == ["E.B.E. (2)"]
    assert ebe.artists[0].anv == "EBE" and ebe.artist_credit == "EBE"
    swamp = by_id(releases)[1586308]
    assert swamp.artist_names == ["Swamp (7)"] and swamp.artist_credit == "Swamp"
    joined = [r for r in releases if len(r.artists) > 1]
    assert joined
    for release in joined:
        for artist in release.artists[:-1]:
            assert artist.display_name in release.artist_credit
    assert any(" & " in r.artist_credit for r in joined)


def test_empty_and_missing_elements(sample_xml: bytes, tmp_path: Path) -> None:
    first = split_records(sample_xml)[0]
    assert first.startswith(b'<release id="1"')
    variant = (
        first.replace(b"<country>Sweden</country>", b"<country></country>")
        .replace(b"<released>1999-03-00</released>", b"<released/>")
        .replace(b"<styles><style>Deep House</style></styles>", b"<styles/>")
        .replace(b'<master_id is_main_release="true">1660109</master_id>', b"")
        .replace(b"<title>Stockholm</title>", b"<title/>")
    )
    path = write_variant(tmp_path, join_records([variant]))
    (release,) = list(ReleaseReader(path))
    assert (release.country, release.released, release.year) == (None, None, None)
    assert release.styles == () and release.title == ""
    assert (release.master_id, release.is_main_release) == (None, None)
    assert release.genres == ("Electronic",)


def test_bad_records_are_skipped_counted_and_reported(
    sample_xml: bytes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    records = split_records(sample_xml)
    records[0] = records[0].replace(b'<release id="1" ', b"<release ")
    records[1] = records[1].replace(b'<release id="2" ', b'<release id="two" ')
    records[2] = re.sub(rb"(<master_id[^>]*>)\d+", rb"\1abc", records[2], count=1)
    assert b"abc</master_id>" in records[2]
    records[3] = records[3].replace(b"<genre>", b"<genre>Vaporwave</genre><genre>", 1)
    xml = join_records(records)
    path = write_variant(tmp_path, xml, "bad.xml.gz")
    caplog.set_level("WARNING", logger="discorecs")
    reader = ReleaseReader(path)
    got = list(reader)
    assert len(got) == 797
    assert reader.stats.skipped == 3
    assert [(b.ordinal, b.line, b.raw_id) for b in reader.stats.bad] == [
        (1, line_of(xml, records[0]), None),
        (2, line_of(xml, records[1]), "two"),
        (3, line_of(xml, records[2]), records[2].split(b'"')[1].decode()),
    ]
    assert "master_id is not numeric" in reader.stats.bad[2].reason
    assert reader.stats.unknown_genres == {"Vaporwave": 1}
    assert "Vaporwave" in got[0].genres
    assert sum("bad_record" in r.getMessage() for r in caplog.records) == 3


def test_plain_xml_parses_like_gzip(
    sample_xml: bytes, tmp_path: Path, releases: list[Release]
) -> None:
    path = write_variant(tmp_path, sample_xml, "releases.xml")
    assert list(ReleaseReader(path)) == releases


def test_truncated_gzip_stops_after_last_good_release(tmp_path: Path) -> None:
    path = tmp_path / "truncated.xml.gz"
    path.write_bytes(SAMPLE.read_bytes()[:300_000])
    reader = ReleaseReader(path)
    got: list[Release] = []
    with pytest.raises(ParseStopped) as stopped:
        got.extend(reader)
    message = str(stopped.value)
    assert "\n" not in message
    assert got and reader.stats.releases == len(got)
    assert f"last good release id={got[-1].release_id}" in message
    assert "compressed byte 300000 of 300000" in message
    assert got == list(ReleaseReader(SAMPLE))[: len(got)]


def test_a_file_broken_before_its_first_release_says_there_was_none(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_bytes(b'<releases><release id="1"><title>x</title></release')
    with pytest.raises(ParseStopped) as stopped:
        list(ReleaseReader(path))
    message = str(stopped.value)
    assert message.startswith("broken.xml: stopped at line 1")
    assert message.endswith("; last good release: none before it")


def test_corrupt_gzip_stops_cleanly(tmp_path: Path) -> None:
    data = bytearray(SAMPLE.read_bytes())
    data[200_000:200_064] = bytes(64)
    path = tmp_path / "corrupt.xml.gz"
    path.write_bytes(bytes(data))
    reader = ReleaseReader(path)
    got: list[Release] = []
    with pytest.raises(ParseStopped, match=r"corrupt\.xml\.gz: stopped .*last good release id="):
        got.extend(reader)
    assert 0 < len(got) < 800
    assert got == list(ReleaseReader(SAMPLE))[: len(got)]


def test_another_dump_stops_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "artists.xml"
    path.write_bytes(b"<artists><artist><id>1</id></artist></artists>")
    with pytest.raises(ParseStopped) as stopped:
        list(ReleaseReader(path))
    message = str(stopped.value)
    assert message.startswith("artists.xml: stopped after line 0, byte 46 of 46: not a releases")
    assert "its root element is <artists>, not <releases>" in message and "\n" not in message


def test_corrupt_xml_names_the_line(sample_xml: bytes, tmp_path: Path) -> None:
    records = split_records(sample_xml)
    records[49] = records[49][:300] + b"<<oops" + records[49][300:]
    xml = join_records(records)
    path = write_variant(tmp_path, xml, "corrupt.xml")
    reader = ReleaseReader(path)
    got: list[Release] = []
    line = line_of(xml, b"<<oops")
    with pytest.raises(ParseStopped, match=rf"stopped at line {line}, byte \d+ of \d+: XML syntax"):
        got.extend(reader)
    assert len(got) == 49
    assert reader.stats.last_id == got[-1].release_id
