"""The workers' path: archive entries dropped only when pyspark and py4j stay importable."""

import sys
import zipfile
from pathlib import Path

import pytest

from spark_jobs.python_daemon import packages_outside_archives, trim_path, without_archives


def archive(folder: Path, name: str, members: tuple[str, ...] = ()) -> str:
    path = folder / name
    with zipfile.ZipFile(path, "w") as zipped:
        for member in members:
            zipped.writestr(member, "")
    return str(path)


def test_only_archive_files_leave_the_path(tmp_path: Path) -> None:
    jar = archive(tmp_path, "spark-core.jar")
    missing = str(tmp_path / "python311.zip")
    path = [str(tmp_path), jar, missing]
    assert without_archives(path) == [str(tmp_path), missing]


def test_a_package_found_only_in_an_archive_is_not_found_without_it(tmp_path: Path) -> None:
    zipped = archive(tmp_path, "only.zip", ("only_in_the_zip_pkg/__init__.py",))
    assert packages_outside_archives([zipped], ("only_in_the_zip_pkg",))
    assert not packages_outside_archives([str(tmp_path)], ("only_in_the_zip_pkg",))


def test_trim_drops_the_archives_and_their_importers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jar = archive(tmp_path, "spark-core.jar", ("org/apache/Spark.class",))
    monkeypatch.setattr(sys, "path", [jar, *sys.path])
    monkeypatch.setattr(sys, "path_importer_cache", {**sys.path_importer_cache, jar: object()})
    trim_path()
    assert jar not in sys.path
    assert jar not in sys.path_importer_cache


def test_trim_keeps_the_path_when_pyspark_lives_only_in_an_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    zipped = archive(tmp_path, "pyspark.zip", ("pyspark/__init__.py", "py4j/__init__.py"))
    monkeypatch.setattr(sys, "path", [zipped, str(folder)])
    monkeypatch.delitem(sys.modules, "pyspark", raising=False)
    monkeypatch.delitem(sys.modules, "py4j", raising=False)
    trim_path()
    assert sys.path == [zipped, str(folder)]
