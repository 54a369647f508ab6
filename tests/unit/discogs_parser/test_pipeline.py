"""The parse pipeline: complete releases reach the sinks in chunks, also when the input stops."""

import json
from pathlib import Path

import pytest

from discogs_parser.pipeline import JsonlSink, ListSink, RunStopped, RunSummary, run_releases
from tests.support import SAMPLE


def test_pipeline_hands_complete_releases_before_stopping(tmp_path: Path) -> None:
    path = tmp_path / "truncated.xml.gz"
    path.write_bytes(SAMPLE.read_bytes()[:300_000])
    sink = ListSink()
    with pytest.raises(RunStopped, match=r"releases loaded=(\d+) skipped=0$") as stopped:
        run_releases(path, [sink], chunk_size=64)
    seen = sink.releases
    assert f"releases loaded={len(seen)} " in str(stopped.value)
    assert len({r.release_id for r in seen}) == len(seen)


def test_pipeline_limit_and_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with out.open("w") as handle:
        summary = run_releases(SAMPLE, [JsonlSink(handle)], limit=150, chunk_size=64)
    assert summary.releases == 150
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 150 and rows[0]["release_id"] == 1
    assert rows[0]["artists"][0]["name"] == "The Persuader"
    assert rows[0]["artist_credit"] == "The Persuader"


def test_summary_line() -> None:
    summary = RunSummary(releases=800, skipped=2, unknown_genres=1, seconds=0.5)
    assert summary.rate == 1600.0
    assert summary.line() == "releases=800 skipped=2 unknown_genres=1 seconds=0.50 rate=1600/s"
    assert RunSummary(0, 0, 0, 0.0).rate == 0.0
