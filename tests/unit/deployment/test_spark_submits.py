"""The cron entry and the hourly script: no overlapping runs, one strict-bash `discorecs hourly`."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

SCRIPT = REPO_ROOT / "deployment" / "spark_submits.sh"


def commands(text: str) -> list[str]:
    """The lines of a shell or cron file that are neither blank, comments nor assignments."""
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip()
        and not line.lstrip().startswith("#")
        and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", line.strip())
    ]


def test_crontab_runs_spark_submits_hourly_under_flock() -> None:
    (line,) = commands((REPO_ROOT / "crontab").read_text())
    fields = line.split()
    assert fields[:5] == ["0", "*", "*", "*", "*"]
    assert fields[5:7] == ["flock", "-n"]
    assert "deployment/spark_submits.sh" in line and ">>" in line and "2>&1" in line


def test_spark_submits_is_strict_bash() -> None:
    text = SCRIPT.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in commands(text)
    assert subprocess.run(["bash", "-n", str(SCRIPT)], check=False).returncode == 0


def test_spark_submits_has_one_discorecs_command_and_no_spark_submit() -> None:
    lines = commands(SCRIPT.read_text())
    assert [line for line in lines if "discorecs" in line] == [
        '"$ROOT/.venv/bin/discorecs" hourly || status=$?'
    ]
    assert not [line for line in lines if "spark-submit" in line]


@pytest.mark.parametrize("code", [0, 3])
def test_spark_submits_runs_discorecs_hourly_and_exits_with_its_status(
    tmp_path: Path, code: int
) -> None:
    """A copy of the script next to a stand-in `discorecs` that records its arguments."""
    (tmp_path / "deployment").mkdir()
    script = tmp_path / "deployment" / "spark_submits.sh"
    shutil.copy(SCRIPT, script)
    fake = tmp_path / ".venv" / "bin" / "discorecs"
    fake.parent.mkdir(parents=True)
    fake.write_text(f'#!/usr/bin/env bash\necho "$@" >> "{tmp_path}/calls"\nexit {code}\n')
    fake.chmod(0o755)
    result = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == code
    assert (tmp_path / "calls").read_text() == "hourly\n"
    last = result.stdout.strip().splitlines()[-1]
    outcome = "ok" if code == 0 else "failed"
    assert re.fullmatch(rf"\S+ spark_submits run={outcome} exit={code} seconds=\d+", last)
