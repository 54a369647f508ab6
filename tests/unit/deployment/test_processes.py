"""`java -version` parsing and pid files that prove a process is still ours."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deployment.processes import ClusterError, PidFile, cpu_seconds, java_major_version


def fake_java(folder: Path, stderr: str) -> Path:
    """An executable that prints ``stderr`` to stderr, as `java -version` does."""
    java = folder / "java"
    java.write_text(f"#!/bin/sh\nprintf '%s\\n' '{stderr}' >&2\n")
    java.chmod(0o755)
    return java


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_392"', 8),
    ],
)
def test_java_major_version_reads_the_version_line(tmp_path: Path, output: str, major: int) -> None:
    assert java_major_version(fake_java(tmp_path, output)) == major


def test_java_without_a_version_line_is_a_cluster_error(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="printed no version"):
        java_major_version(fake_java(tmp_path, ""))


def test_missing_java_is_a_cluster_error(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="java not found"):
        java_major_version(tmp_path / "no-java")


def own_cmdline_word() -> str:
    """A word of this test process's own command line (what a marker is matched against)."""
    return Path("/proc/self/cmdline").read_bytes().split(b"\0")[0].decode()


def test_pid_file_write_read_clear(tmp_path: Path) -> None:
    pid_file = PidFile(tmp_path / "pids" / "service.pid", marker=own_cmdline_word())
    assert pid_file.read() is None
    pid_file.write(os.getpid())
    assert (tmp_path / "pids" / "service.pid").read_text() == f"{os.getpid()}\n"
    assert pid_file.read() == os.getpid()
    pid_file.clear()
    assert pid_file.read() is None
    assert not pid_file.path.exists()
    pid_file.clear()


def test_a_live_pid_without_the_marker_is_not_ours(tmp_path: Path) -> None:
    pid_file = PidFile(tmp_path / "service.pid", marker="not-in-any-cmdline-3f9c1e")
    pid_file.write(os.getpid())
    assert pid_file.read() is None


def test_a_dead_pid_or_garbage_reads_as_none(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    assert child.wait(timeout=30) == 0
    pid_file = PidFile(tmp_path / "service.pid", marker=own_cmdline_word())
    pid_file.write(child.pid)
    assert pid_file.read() is None
    pid_file.path.write_text("not a pid\n")
    assert pid_file.read() is None


def test_cpu_seconds_counts_this_process_and_knows_no_dead_one() -> None:
    busy = time.process_time()
    while time.process_time() - busy < 0.2:
        pass
    seconds = cpu_seconds(os.getpid())
    assert seconds is not None and seconds >= 0.2
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    assert child.wait(timeout=30) == 0
    assert cpu_seconds(child.pid) is None
