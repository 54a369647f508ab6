"""The project installed non-editable (a built wheel) in a fresh venv finds its package data.

The wheel is built from this checkout and installed without its dependencies into a new venv,
which borrows them from the development venv through a ``.pth`` line (installing pyspark and the
rest again would only re-test pip). Commands then run from a folder outside the checkout, so
nothing can be read from the repository by accident: the CQL schema, the Spark and service
configs and the Discogs sample must come from the installed package.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from discorecs.core.cassandra import drop_keyspace, session_scope
from discorecs.core.settings import Settings
from discorecs.core.topics import delete_topics
from tests.support import REPO_ROOT

pytestmark = pytest.mark.timeout(900)


def run(argv: list[str | Path], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, **kwargs
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def source_copy(target: Path) -> Path:
    """A copy of the checkout's files but the ignored ones, symlinks kept.

    Building from the copy leaves no ``build/`` behind in the checkout.
    """
    listed = ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    files = run(["git", "-C", REPO_ROOT, *listed]).stdout.split("\0")
    for name in filter(None, files):
        source, copy = REPO_ROOT / name, target / name
        if not source.exists() and not source.is_symlink():
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            copy.symlink_to(source.readlink())
        else:
            shutil.copy2(source, copy)
    return target


def installed_venv(tmp_path: Path) -> Path:
    wheels = tmp_path / "wheels"
    source = source_copy(tmp_path / "source")
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), source])
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    Path(purelib.stdout.strip(), "dev-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n"
    )
    (wheel,) = wheels.glob("discorecs-*.whl")
    run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)])
    return venv


def test_installed_package_applies_the_schema_loads_the_sample_and_produces(
    pipeline: Settings, tmp_path: Path
) -> None:
    venv = installed_venv(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    python = str(venv / "bin" / "python")
    where = run([python, "-c", "import discorecs; print(discorecs.__file__)"], cwd=outside)
    assert where.stdout.startswith(str(venv)), where.stdout
    settings = pipeline.with_updates(keyspace=pipeline.keyspace + "_wheel")
    env = settings.child_env()
    discorecs = str(venv / "bin" / "discorecs")
    try:
        applied = run([discorecs, "schema", "apply"], cwd=outside, env=env)
        assert f"keyspace={settings.keyspace}" in applied.stdout
        code = "from discorecs.app.sample import SAMPLE_RELEASES; print(SAMPLE_RELEASES)"
        sample = run([python, "-c", code], cwd=outside).stdout.strip()
        assert sample.startswith(str(venv))
        loaded = run([discorecs, "parse", "releases", sample], cwd=outside, env=env)
        assert loaded.stdout.startswith("releases=800 ")
        produced = run(
            [discorecs, "produce", "--users", "20", "--events", "500", "--rate", "0"],
            cwd=outside,
            env=env,
        )
        assert "events=500 " in produced.stdout and "failed=0" in produced.stdout
    finally:
        with session_scope(settings) as session:
            drop_keyspace(session, settings.keyspace)
        delete_topics(settings)
