"""`discorecs parse releases`: summary line, JSON lines to stdout, one-line errors."""

import json
import re
from pathlib import Path

from click.testing import CliRunner

from discorecs.app.commands.parse import parse
from tests.support import SAMPLE


def test_cli_jsonl_to_stdout_keeps_the_summary_off_it() -> None:
    result = CliRunner().invoke(parse, ["releases", str(SAMPLE), "--jsonl", "-", "--limit", "5"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 5 and all(json.loads(line)["release_id"] for line in lines)
    assert result.stderr.strip().splitlines()[-1].startswith("releases=5 skipped=0")


def test_cli_summary_line(tmp_path: Path) -> None:
    out = tmp_path / "all.jsonl"
    result = CliRunner().invoke(parse, ["releases", str(SAMPLE), "--jsonl", str(out)])
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"releases=800 skipped=0 unknown_genres=0 seconds=[\d.]+ rate=\d+/s", last)
    assert len(out.read_text().splitlines()) == 800


def test_cli_workers_write_the_same_lines(tmp_path: Path) -> None:
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}.jsonl"
        args = ["releases", str(SAMPLE), "--jsonl", str(out), "--block-bytes", "20000"]
        result = CliRunner().invoke(parse, [*args, "--workers", workers])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0].count(b"\n") == 800


def test_cli_truncated_file_is_one_line_and_nonzero(tmp_path: Path) -> None:
    path = tmp_path / "truncated.xml.gz"
    path.write_bytes(SAMPLE.read_bytes()[:300_000])
    result = CliRunner().invoke(parse, ["releases", str(path), "--no-load", "--workers", "2"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("Error: truncated.xml.gz: stopped")
    assert "last good release id=" in errors[0] and "releases loaded=" in errors[0]


def test_cli_resume_needs_loading() -> None:
    result = CliRunner().invoke(parse, ["releases", str(SAMPLE), "--no-load", "--resume"])
    assert result.exit_code == 2
    assert "--resume only applies when loading into Cassandra" in result.output


def test_help_names_the_loader_settings() -> None:
    result = CliRunner().invoke(parse, ["releases", "--help"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "env var: DISCORECS_LOADER_WORKERS; default: " in text
    assert "env var: DISCORECS_LOADER_BLOCK_BYTES; default: 1048576" in text
    assert "env var: DISCORECS_LOADER_BATCH_ROWS; default: 25" in text


def test_cli_jsonl_to_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "all.jsonl"
    result = CliRunner().invoke(parse, ["releases", str(SAMPLE), "--jsonl", str(out)])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot write {out}: No such file or directory\n"
