"""The workers' path: pyspark's own archives dropped, only when pyspark and py4j stay importable."""

import sys
import zipfile
from pathlib import Path

import pytest

from spark_jobs.python_daemon import package_folder, spark_archives, trim_path


def archive(path: Path, members: tuple[str, ...] = ()) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zipped:
        for member in members:
            zipped.writestr(member, "")
    return str(path)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site-packages folder holding pyspark (with Spark's archives inside it) and py4j."""
    site = tmp_path / "site"
    for package in ("pyspark", "py4j"):
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text("")
    for name in ("pyspark", "py4j"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return site


def spark_path(site: Path, outside: Path) -> list[str]:
    """The path Spark gives the daemon: its three archives first, then other entries."""
    lib = site / "pyspark" / "python" / "lib"
    return [
        archive(lib / "pyspark.zip", ("pyspark/__init__.py",)),
        archive(lib / "py4j-0.10.9.7-src.zip", ("py4j/__init__.py",)),
        archive(site / "pyspark" / "jars" / "spark-core.jar", ("org/apache/Spark.class",)),
        archive(outside / "user.zip", ("user_code/__init__.py",)),
        str(outside / "python311.zip"),
        str(site),
    ]


def test_the_package_folder_is_found_without_importing(installed: Path) -> None:
    assert package_folder([str(installed)], "pyspark") == str(installed / "pyspark")
    assert "pyspark" not in sys.modules
    assert package_folder([str(installed)], "not_a_package_here") is None


def test_only_the_archives_inside_pyspark_are_dropped(installed: Path, tmp_path: Path) -> None:
    path = spark_path(installed, tmp_path)
    assert spark_archives(path) == path[:3]


def test_nothing_is_dropped_when_pyspark_lives_only_in_its_zip(
    installed: Path, tmp_path: Path
) -> None:
    path = spark_path(installed, tmp_path)
    assert spark_archives(path[:-1]) == []


def test_trim_drops_the_archives_and_their_cached_importers(
    installed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = spark_path(installed, tmp_path)
    monkeypatch.setattr(sys, "path", path[:])
    monkeypatch.setattr(sys, "path_importer_cache", dict(sys.path_importer_cache))
    package_folder(path, "nowhere_on_this_path")  # caches an importer for every entry
    assert set(path) <= set(sys.path_importer_cache)
    trim_path()
    assert sys.path == path[3:]
    assert not set(path[:3]) & set(sys.path_importer_cache)
    assert set(path[3:]) <= set(sys.path_importer_cache)
