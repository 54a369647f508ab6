import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from discorecs.core.settings import Settings
from spark_jobs.class_archive import ArchivePlan, install_digest, plan, publish_dump
from spark_jobs.session import spark_jars


def settings_in(folder: Path, **changes: Any) -> Settings:
    jar = folder / "jars" / "spark" / "connector.jar"
    if not jar.exists():
        jar.parent.mkdir(parents=True)
        jar.write_bytes(b"jar")
    return Settings(cluster_dir=folder, jars_dir=folder / "jars", **changes)


def test_the_first_run_dumps_to_a_part_of_its_own(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    first = plan(settings, "app", gateway_running=False)
    assert first.part is not None and first.part.parent == first.archive.parent
    digest = install_digest(settings.java_binary, spark_jars(settings))
    assert first.archive.name == f"app-{digest}.jsa"
    assert first.java_options[0] == f"-XX:ArchiveClassesAtExit={first.part}"
    assert first.mode == "dump"


def test_a_published_archive_is_mapped(tmp_path: Path) -> None:
    first = plan(settings_in(tmp_path), "app", gateway_running=False)
    first.archive.write_bytes(b"archive")
    second = plan(settings_in(tmp_path), "app", gateway_running=False)
    assert second.mode == "map"
    assert second.java_options[0] == f"-XX:SharedArchiveFile={first.archive}"


def test_no_options_when_off_or_when_the_jvm_already_runs(tmp_path: Path) -> None:
    off = plan(settings_in(tmp_path, spark={"class_archive": False}), "app", gateway_running=False)
    reused = plan(settings_in(tmp_path), "app", gateway_running=True)
    assert off.java_options == reused.java_options == ()
    assert off.mode == reused.mode == "off"


def fake_jvm(part: Path, code: int) -> subprocess.Popen[bytes]:
    """A process that, like the py4j gateway, writes its archive and exits on EOF."""
    script = f"import sys; sys.stdin.read(); open({str(part)!r}, 'w').write('a'); sys.exit({code})"
    return subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE)


def test_publish_renames_a_clean_dump_and_removes_stale_files(tmp_path: Path) -> None:
    archive = tmp_path / "app-new.jsa"
    older = tmp_path / "app-old.jsa"
    dead_part = tmp_path / "app-new.jsa.part-7"
    live_part = tmp_path / "app-new.jsa.part-8"
    other_app = tmp_path / "other-old.jsa"
    for path in (older, dead_part, live_part, other_app):
        path.write_text("x")
    os.utime(dead_part, (time.time() - 7200, time.time() - 7200))
    part = tmp_path / "app-new.jsa.part-1"
    publish_dump(ArchivePlan(("-X",), archive, part), fake_jvm(part, 0))
    assert archive.read_text() == "a"
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert remaining == ["app-new.jsa", "app-new.jsa.part-8", "other-old.jsa"]


def test_publish_keeps_nothing_of_a_failed_dump(tmp_path: Path) -> None:
    archive = tmp_path / "app-new.jsa"
    part = tmp_path / "app-new.jsa.part-1"
    publish_dump(ArchivePlan(("-X",), archive, part), fake_jvm(part, 1))
    assert list(tmp_path.iterdir()) == []


def test_a_changed_jar_names_another_archive(tmp_path: Path) -> None:
    before = plan(settings_in(tmp_path), "app", gateway_running=False).archive
    (tmp_path / "jars" / "spark" / "connector.jar").write_bytes(b"another build")
    assert plan(settings_in(tmp_path), "app", gateway_running=False).archive != before


def test_no_archive_where_the_folder_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "class-archives").write_text("a file where the folder would be")
    assert plan(settings_in(tmp_path), "app", gateway_running=False).mode == "off"
