"""The real releases sample loaded into the real local Cassandra, read back two ways."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from discogs_parser import ReleaseReader
from discogs_parser.loader import LoaderSink, release_row
from discogs_parser.pipeline import run_releases
from discorecs.core.cassandra import session_scope
from discorecs.core.settings import Settings
from discorecs.core.tables import RELEASES
from tests.support import SAMPLE

RunCli = Callable[..., subprocess.CompletedProcess[str]]

pytestmark = pytest.mark.integration


def load(settings: Settings, path: Path = SAMPLE, workers: int = 1) -> tuple[int, int]:
    loader = LoaderSink(settings)
    summary = run_releases(path, [loader], workers=workers, block_bytes=64 * 1024)
    return summary.releases, loader.stats.written


def all_rows(settings: Settings) -> dict[int, tuple]:
    with session_scope(settings) as session:
        query = session.prepare(RELEASES.select(settings.keyspace))
        rows = session.execute(query, timeout=60)
        return {row.release_id: tuple(row) for row in rows}


def normalize(values: tuple) -> tuple:
    """Compare driver rows with bound values: empty collections read back as None."""
    out = []
    for value in values:
        if isinstance(value, list | tuple):
            value = tuple(value) or None
        elif isinstance(value, set | frozenset) or type(value).__name__ == "SortedSet":
            value = frozenset(value) or None
        out.append(value)
    return tuple(out)


def test_sample_loads_and_reads_back_with_the_driver(keyspace: Settings) -> None:
    assert load(keyspace) == (800, 800)
    rows = all_rows(keyspace)
    assert len(rows) == 800
    expected = {r.release_id: r for r in ReleaseReader(SAMPLE)}
    assert set(rows) == set(expected)
    for release_id, row in rows.items():
        assert normalize(row) == normalize(release_row(expected[release_id]))
    with session_scope(keyspace) as session:
        query = session.prepare(RELEASES.select(keyspace.keyspace, where=["release_id"]))
        row = session.execute(query, (21,)).one()
    assert row.artists == ["E.B.E. (2)"] and row.artist_credit == "EBE"
    release = expected[21]
    assert row.title == release.title and row.year == release.year
    assert set(row.genres) == set(release.genres)
    assert row.labels == release.label_names and row.catnos == release.catnos
    assert row.track_count == release.track_count


def test_sample_reads_back_with_cqlsh(keyspace: Settings, cqlsh: Callable[[str], str]) -> None:
    load(keyspace)
    out = cqlsh(f"SELECT count(*) FROM {keyspace.keyspace}.releases")
    assert re.search(r"^\s*800\s*$", out, re.M), out
    out = cqlsh(
        f"SELECT release_id, title, artists, year, master_id FROM {keyspace.keyspace}.releases "
        "WHERE release_id = 1"
    )
    assert "Stockholm" in out and "The Persuader" in out and "1999" in out and "1660109" in out


def test_loading_twice_leaves_the_same_rows(keyspace: Settings) -> None:
    load(keyspace)
    first = all_rows(keyspace)
    assert load(keyspace, workers=2) == (800, 800)
    assert all_rows(keyspace) == first


def test_resume_writes_only_the_missing_releases(keyspace: Settings) -> None:
    load(keyspace)
    with session_scope(keyspace) as session:
        delete = session.prepare(RELEASES.delete(keyspace.keyspace, ["release_id"]))
        for release_id in (1, 2, 14220612):
            session.execute(delete, (release_id,))
    loader = LoaderSink(keyspace, resume=True)
    run_releases(SAMPLE, [loader], workers=2, block_bytes=64 * 1024)
    assert (loader.stats.written, loader.stats.already_loaded) == (3, 797)
    assert len(all_rows(keyspace)) == 800


def test_cli_loads_and_ends_with_the_summary(keyspace: Settings, cli: RunCli) -> None:
    result = cli(keyspace, "parse", "releases", str(SAMPLE), "--limit", "300")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(
        r"releases=300 skipped=0 unknown_genres=0 seconds=[\d.]+ rate=\d+/s\n", result.stdout
    )
    assert len(all_rows(keyspace)) == 300
    result = cli(keyspace, "parse", "releases", str(SAMPLE), "--resume")
    assert result.returncode == 0, result.stderr
    assert "already_loaded=300" in result.stderr
    assert len(all_rows(keyspace)) == 800


def test_cli_truncated_file_loads_only_whole_releases(
    keyspace: Settings, tmp_path: Path, cli: RunCli
) -> None:
    truncated = tmp_path / "truncated.xml.gz"
    truncated.write_bytes(SAMPLE.read_bytes()[:300_000])
    result = cli(keyspace, "parse", "releases", str(truncated))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    match = re.search(r"releases loaded=(\d+)", error)
    assert match is not None, error
    loaded = int(match.group(1))
    rows = all_rows(keyspace)
    assert len(rows) == loaded > 0
    expected = {r.release_id: r for r in ReleaseReader(SAMPLE)}
    for release_id, row in rows.items():
        assert normalize(row) == normalize(release_row(expected[release_id]))


def test_unreachable_cassandra_is_one_clear_line(keyspace: Settings, cli: RunCli) -> None:
    result = cli(
        keyspace, "parse", "releases", str(SAMPLE), timeout=120, DISCORECS_CASSANDRA_PORT="1"
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "cannot reach Cassandra at 127.0.0.1:1" in result.stderr
