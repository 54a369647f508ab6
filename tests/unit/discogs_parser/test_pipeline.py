"""The parse pipeline: the same releases, counts and errors in any number of processes."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from discogs_parser.model import Release
from discogs_parser.pipeline import RunStopped, RunSummary, run_releases
from discogs_parser.sinks import JsonlSink, ListSink
from tests.support import SAMPLE

BLOCK = 20_000  # small blocks: the 800-release sample makes ~170 of them


def run(path: Path, workers: int, **kwargs: Any) -> tuple[list[Release], RunSummary | str]:
    sink = ListSink()
    try:
        summary: RunSummary | str = run_releases(
            path, [sink], workers=workers, block_bytes=BLOCK, **kwargs
        )
    except RunStopped as exc:
        summary = str(exc)
    return sink.releases, summary


def counts(summary: RunSummary | str) -> Any:
    return summary if isinstance(summary, str) else (summary.releases, summary.skipped)


@pytest.fixture(scope="module")
def sample_xml() -> bytes:
    return gzip.decompress(SAMPLE.read_bytes())


def test_workers_give_the_same_releases_in_the_same_order() -> None:
    one, summary = run(SAMPLE, 1)
    assert len(one) == 800 and counts(summary) == (800, 0)
    two, summary = run(SAMPLE, 2)
    assert two == one and counts(summary) == (800, 0)


@pytest.mark.parametrize("cut", [300_000, 150_000])
def test_truncated_gzip_stops_the_same_way_with_workers(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "truncated.xml.gz"
    path.write_bytes(SAMPLE.read_bytes()[:cut])
    one, stopped = run(path, 1)
    two, stopped_two = run(path, 3)
    assert isinstance(stopped, str) and stopped == stopped_two
    assert one == two and one
    assert re.search(rf"releases loaded={len(one)} skipped=0$", stopped)
    assert f"last good release id={one[-1].release_id}" in stopped


def test_corrupt_record_stops_at_its_line_with_workers(sample_xml: bytes, tmp_path: Path) -> None:
    at = sample_xml.index(b'<release id="', len(sample_xml) // 2) + 200
    path = tmp_path / "corrupt.xml"
    path.write_bytes(sample_xml[:at] + b"<<oops" + sample_xml[at:])
    line = sample_xml[:at].count(b"\n") + 1
    one, stopped = run(path, 1)
    two, stopped_two = run(path, 2)
    assert isinstance(stopped, str) and stopped == stopped_two
    assert f"stopped at line {line}, byte " in stopped
    assert one == two and 300 < len(one) < 500


def test_bad_records_are_counted_the_same_way(sample_xml: bytes, tmp_path: Path) -> None:
    xml = sample_xml.replace(b'<release id="2" ', b'<release id="two" ', 1)
    path = tmp_path / "bad.xml"
    path.write_bytes(xml)
    one, summary = run(path, 1)
    two, summary_two = run(path, 2)
    assert counts(summary) == counts(summary_two) == (799, 1)
    assert one == two


def test_limit_and_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with out.open("w") as handle:
        summary = run_releases(SAMPLE, [JsonlSink(handle)], limit=150, workers=2, block_bytes=BLOCK)
    assert summary.releases == 150
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 150 and rows[0]["release_id"] == 1
    assert rows[0]["artists"][0]["name"] == "The Persuader"
    assert rows[0]["artist_credit"] == "The Persuader"


def test_a_limit_reached_before_a_broken_record_ends_well(tmp_path: Path) -> None:
    xml = gzip.decompress(SAMPLE.read_bytes())
    path = tmp_path / "cut.xml"
    path.write_bytes(xml[: len(xml) // 2])  # cut in the middle of a record
    sink = ListSink()  # one block holds the whole file: the five releases and the cut
    summary = run_releases(path, [sink], workers=1, block_bytes=len(xml), limit=5)
    assert summary.releases == 5 and len(sink.releases) == 5
    with pytest.raises(RunStopped):  # without the limit, the cut stops the run
        run_releases(path, [ListSink()], workers=1, block_bytes=len(xml))


def test_records_after_the_limit_are_neither_counted_nor_logged(tmp_path: Path) -> None:
    xml = gzip.decompress(SAMPLE.read_bytes()).decode()
    first = re.search(r"<release .*?</release>", xml, re.S)
    assert first is not None
    good = first.group(0)
    bad = re.sub(r'id="\d+"', 'id="not-a-number"', good, count=1)
    odd = re.sub(r'id="\d+"', 'id="999999"', good, count=1)
    odd = re.sub(r"<genre>[^<]*</genre>", "<genre>Polka</genre>", odd)
    path = tmp_path / "tail.xml"
    path.write_text(f"<releases>{good}{good}{bad}{bad}{odd}</releases>")
    summary = run_releases(path, [ListSink()], workers=1, limit=2)
    assert (summary.releases, summary.skipped, summary.unknown_genres) == (2, 0, 0)
    whole = run_releases(path, [ListSink()], workers=1)
    assert (whole.releases, whole.skipped, whole.unknown_genres) == (3, 2, 1)


class CommitLog:
    """A sink whose parts report, at close, the blocks they were told to store."""

    def __init__(self) -> None:
        self.stored: list[int] = []

    def open(self) -> CommitLogPart:
        return CommitLogPart()

    def accept(self, receipt: int) -> None:
        pass

    def finish(self, closings: list[list[int]]) -> None:
        self.stored = sorted(index for stored in closings for index in stored)


class CommitLogPart:
    def __init__(self) -> None:
        self.pending: list[int] = []
        self.stored: list[int] = []

    def write(self, index: int, releases: list[Release]) -> int:
        self.pending.append(index)
        return index

    def commit(self, through: int) -> None:
        self.stored += [i for i in self.pending if i <= through]
        self.pending = [i for i in self.pending if i > through]

    def close(self) -> list[int]:
        return self.stored


@pytest.mark.parametrize("workers", [1, 2])
def test_nothing_after_a_bad_block_is_stored(
    sample_xml: bytes, tmp_path: Path, workers: int
) -> None:
    path = tmp_path / "corrupt.xml"
    at = sample_xml.index(b'<release id="', len(sample_xml) // 3)
    path.write_bytes(sample_xml[:at] + b"<<oops" + sample_xml[at:])
    sink = CommitLog()
    with pytest.raises(RunStopped):
        run_releases(path, [sink], workers=workers, block_bytes=BLOCK)
    assert sink.stored == list(range(len(sink.stored)))
    assert BLOCK * len(sink.stored) < at + BLOCK * 2
    clean = CommitLog()
    run_releases(SAMPLE, [clean], workers=workers, block_bytes=BLOCK)
    assert len(clean.stored) > len(sink.stored) + 10


def test_summary_line() -> None:
    summary = RunSummary(releases=800, skipped=2, unknown_genres=1, seconds=0.5)
    assert summary.rate == 1600.0
    assert summary.line() == "releases=800 skipped=2 unknown_genres=1 seconds=0.50 rate=1600/s"
    assert RunSummary(0, 0, 0, 0.0).rate == 0.0
