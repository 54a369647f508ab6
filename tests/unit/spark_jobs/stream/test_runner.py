"""The stream's batch watchdog (a hung batch ends the process) and its checkpoint lock."""

import subprocess
import sys
from pathlib import Path

from discorecs.core.settings import Settings
from spark_jobs.stream.progress import STUCK_EXIT_CODE
from spark_jobs.stream.runner import checkpoint_lock

WATCHED = (
    "import time\n"
    "from discorecs.core.logs import configure\n"
    "from spark_jobs.stream.runner import BatchWatchdog\n"
    "configure()\n"
    "watchdog = BatchWatchdog(0.4)\n"
)


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_a_hung_batch_ends_the_process_with_exit_75() -> None:
    result = run_python(WATCHED + "with watchdog.batch(7):\n    time.sleep(30)\n")
    assert result.returncode == STUCK_EXIT_CODE == 75
    assert "batch_stuck" in result.stderr and "batch_id=7" in result.stderr


def test_batches_within_the_timeout_are_left_alone() -> None:
    """Three batches just under the timeout, then idle time longer than it: no exit."""
    result = run_python(
        WATCHED
        + "for batch_id in range(3):\n"
        + "    with watchdog.batch(batch_id):\n"
        + "        time.sleep(0.2)\n"
        + "time.sleep(0.6)\n"
    )
    assert result.returncode == 0, result.stderr
    assert "batch_stuck" not in result.stderr


def test_one_process_at_a_time_owns_the_checkpoint(tmp_path: Path) -> None:
    settings = Settings(checkpoint_dir=tmp_path / "checkpoints")
    with checkpoint_lock(settings) as first:
        with checkpoint_lock(settings) as second:
            assert (first, second) == (True, False)
    with checkpoint_lock(settings) as again:
        assert again
    assert (tmp_path / "checkpoints" / "events.lock").exists()
