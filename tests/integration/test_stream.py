"""Issue 6: Kafka -> Structured Streaming -> Cassandra, exact against the producer's truth."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from discorecs.cassandra import session_scope
from discorecs.settings import REPO_ROOT, Settings
from discorecs.verify import cassandra_state, compare, dead_letter_state, expected_state
from spark_jobs.stream.runner import metrics_path

DISCORECS = str(Path(sys.executable).parent / "discorecs")
SAMPLE = REPO_ROOT / "tests" / "data" / "releases-sample.xml.gz"


def cli(settings: Settings, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DISCORECS_KEYSPACE": settings.keyspace,
        "DISCORECS_TOPIC_PREFIX": settings.topic_prefix,
    }
    return subprocess.run(
        [DISCORECS, *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        **kwargs,
    )


def load_and_produce(settings: Settings, truth: Path, events: int) -> None:
    loaded = cli(settings, "parse", "releases", str(SAMPLE), timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    produced = cli(
        settings,
        "produce",
        "--users",
        "150",
        "--events",
        str(events),
        "--rate",
        "0",
        "--seed",
        "7",
        "--bad-ratio",
        "0.03",
        "--truth",
        str(truth),
        timeout=300,
    )
    assert produced.returncode == 0, produced.stderr


def assert_exact(settings: Settings, truth: Path) -> None:
    expected = expected_state(truth)
    with session_scope(settings) as session:
        actual = cassandra_state(session, settings.keyspace)
    actual.dead_letters = dead_letter_state(settings)
    problems = [d for d in compare(expected, actual) if d.lost or d.extra]
    assert not problems, problems
    assert expected.collections and expected.dead_letters and expected.changed_users


@pytest.mark.timeout(900)
def test_stream_once_matches_truth_exactly(pipeline: Settings, tmp_path: Path) -> None:
    truth = tmp_path / "truth.jsonl"
    load_and_produce(pipeline, truth, 6000)
    run = cli(pipeline, "stream", "--once", timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert_exact(pipeline, truth)
    batches = [json.loads(line) for line in metrics_path(pipeline).read_text().splitlines()]
    assert sum(b["rows_in"] for b in batches) == 6000

    rerun = cli(pipeline, "stream", "--once", timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert_exact(pipeline, truth)


@pytest.mark.timeout(900)
def test_kill_9_mid_run_then_restart_loses_and_doubles_nothing(
    pipeline: Settings, tmp_path: Path
) -> None:
    truth = tmp_path / "truth.jsonl"
    load_and_produce(pipeline, truth, 8000)
    env = {
        **os.environ,
        "DISCORECS_KEYSPACE": pipeline.keyspace,
        "DISCORECS_TOPIC_PREFIX": pipeline.topic_prefix,
    }
    metrics = metrics_path(pipeline)
    job = subprocess.Popen(
        [DISCORECS, "stream", "--max-offsets", "1000"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "stream.log", "w"),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            done = len(metrics.read_text().splitlines()) if metrics.exists() else 0
            if done >= 2:
                break
            assert job.poll() is None, (tmp_path / "stream.log").read_text()[-3000:]
            time.sleep(0.2)
        else:
            pytest.fail("the stream wrote no batch in time")
    finally:
        os.killpg(job.pid, signal.SIGKILL)
        job.wait()
    written_before_kill = sum(
        json.loads(line)["rows_in"] for line in metrics.read_text().splitlines()
    )
    assert 0 < written_before_kill < 8000

    restart = cli(pipeline, "stream", "--once", timeout=600)
    assert restart.returncode == 0, restart.stderr[-3000:]
    assert_exact(pipeline, truth)
