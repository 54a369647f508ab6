"""The cron entry and the hourly script keep their promises: no overlap, stop at first failure."""

import subprocess

from discorecs.settings import REPO_ROOT


def test_crontab_runs_spark_submits_hourly_under_flock() -> None:
    lines = [
        line
        for line in (REPO_ROOT / "crontab").read_text().splitlines()
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]
    assert len(lines) == 1
    fields = lines[0].split()
    assert fields[:5] == ["0", "*", "*", "*", "*"]
    assert fields[5:7] == ["flock", "-n"]
    assert "deployment/spark_submits.sh" in lines[0] and ">>" in lines[0] and "2>&1" in lines[0]


def test_spark_submits_is_strict_bash() -> None:
    script = REPO_ROOT / "deployment" / "spark_submits.sh"
    assert "set -euo pipefail" in script.read_text()
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
