"""A ``kill -9`` of ``discorecs parse releases`` in the middle of a load, then ``--resume``.

Behind the ``fault`` marker (``make test-faults``). The file is generated from the shipped
sample by ``benchmarks/generate_releases.py`` (recombined real records, new ids), big enough
that the load is still running when it is killed; the whole process group goes (the reading
process and its parser processes), as a crash of the machine would take them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from discogs_parser import ReleaseReader
from discorecs.app.loadtest import DISCORECS
from discorecs.core.cassandra import session_scope
from discorecs.core.settings import Settings
from discorecs.core.tables import RELEASES
from tests.support import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.timeout(900)]

RELEASES_IN_FILE = 30_000


def loaded_ids(settings: Settings) -> set[int]:
    with session_scope(settings) as session:
        query = session.prepare(RELEASES.select(settings.keyspace, ["release_id"]))
        return {row.release_id for row in session.execute(query, timeout=60)}


def test_a_killed_load_resumes_to_exactly_the_files_releases(
    keyspace: Settings, tmp_path: Path
) -> None:
    dump = tmp_path / "releases.xml.gz"
    subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "benchmarks" / "generate_releases.py"),
            "--count",
            str(RELEASES_IN_FILE),
            "--out",
            str(dump),
        ],
        check=True,
        capture_output=True,
    )
    expected = {release.release_id for release in ReleaseReader(dump)}
    assert len(expected) == RELEASES_IN_FILE
    env = keyspace.child_env()
    with open(tmp_path / "first.log", "wb") as log:
        first = subprocess.Popen(
            [DISCORECS, "parse", "releases", str(dump), "--workers", "2"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    deadline = time.monotonic() + 300
    while len(loaded_ids(keyspace)) < RELEASES_IN_FILE // 10:
        assert first.poll() is None, (tmp_path / "first.log").read_text()[-2000:]
        assert time.monotonic() < deadline, "the load never got going"
        time.sleep(0.5)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(30)
    partial = loaded_ids(keyspace)
    assert 0 < len(partial) < RELEASES_IN_FILE, "kill the load while it runs"
    assert partial <= expected
    resumed = subprocess.run(
        [DISCORECS, "parse", "releases", str(dump), "--resume"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"releases={RELEASES_IN_FILE} " in resumed.stdout
    assert loaded_ids(keyspace) == expected
