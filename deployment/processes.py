"""Background JVM processes tracked by pid files: start, identify, stop, and Java version checks."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path


class ClusterError(RuntimeError):
    """A service could not be started, checked or stopped; the message says which and why."""


def java_major_version(java: Path) -> int:
    """Return the major version of a ``java`` executable (17 for "17.0.15").

    Raises:
        ClusterError: When the executable is missing or prints no version.

    """
    try:
        result = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (FileNotFoundError, PermissionError) as error:
        raise ClusterError(
            f"java not found at {java}: set DISCORECS_JAVA_HOME to a Java 17 home"
        ) from error
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not match:
        raise ClusterError(f"{java} -version printed no version: {result.stderr.strip()[:200]}")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def require_java(java: Path, major: int = 17) -> None:
    """Fail with a clear message unless ``java`` is the given major version.

    Raises:
        ClusterError: On a missing java or another major version.

    """
    found = java_major_version(java)
    if found != major:
        raise ClusterError(
            f"{java} is Java {found}, but Cassandra 5.0 needs Java {major}: "
            f"set DISCORECS_JAVA_HOME (or JAVA_HOME) to a Java {major} home"
        )


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port_closed(host: str, port: int, timeout: float = 15.0) -> bool:
    """Wait until nothing accepts connections on ``host:port``; False if it is still open.

    A killed JVM's main thread can be reaped while its other threads still hold the sockets.
    """
    deadline = time.monotonic() + timeout
    while port_open(host, port, timeout=0.2):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


class PidFile:
    """The pid of a process this project started, with the marker that proves it is ours."""

    def __init__(self, path: Path, marker: str) -> None:
        self.path = path
        self.marker = marker

    def read(self) -> int | None:
        """The recorded pid if that process is alive and still ours, else None."""
        try:
            pid = int(self.path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return None
        if self.marker not in cmdline or _is_zombie(pid):
            return None
        return pid

    def write(self, pid: int) -> None:
        """Record ``pid``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"{pid}\n")

    def clear(self) -> None:
        """Forget the pid."""
        self.path.unlink(missing_ok=True)


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()


def _is_zombie(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is None or fields[0] == "Z"


def spawn(argv: list[str], log_path: Path, cwd: Path, env: dict[str, str] | None = None) -> int:
    """Start ``argv`` detached in its own session, stdout and stderr appended to ``log_path``.

    Args:
        argv: The command line.
        log_path: Where its output goes.
        cwd: Its working folder (created if missing).
        env: Its environment (None: this process's).

    Returns:
        The new process id.

    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cwd.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if _is_zombie(pid):
        _reap(pid)
        return False
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop(pid: int, timeout: float = 60.0, sig: int = signal.SIGTERM) -> bool:
    """Send ``sig`` to ``pid`` and wait for it to exit; SIGKILL after ``timeout`` seconds.

    Returns:
        True when it stopped within the timeout, False when it had to be killed.

    """
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    while alive(pid):
        time.sleep(0.1)
    return False


def rss_mb(pid: int) -> float | None:
    """Resident set size of ``pid`` in MiB, None when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) ``pid`` has used so far, None when unknown."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log_tail(path: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of a log file, or a note that it is missing."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"(no log at {path})"
