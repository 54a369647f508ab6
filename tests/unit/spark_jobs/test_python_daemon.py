"""The workers' path: pyspark's own archives dropped, only when pyspark and py4j stay importable."""

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
def installed(tmp_path: Path) -> Path:
    """A site-packages folder holding pyspark (with Spark's archives inside it) and py4j."""
    site = tmp_path / "site"
    for package in ("pyspark", "py4j"):
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text("")
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


def test_the_package_folder_is_found_on_the_given_path_only(installed: Path) -> None:
    assert package_folder([str(installed)], "pyspark") == str(installed / "pyspark")
    assert package_folder([str(installed.parent)], "pyspark") is None
    assert package_folder([str(installed)], "not_a_package_here") is None
    assert package_folder([str(installed)], "pytest") is None  # imported, but not on this path


def test_only_the_archives_inside_pyspark_are_dropped(installed: Path, tmp_path: Path) -> None:
    path = spark_path(installed, tmp_path)
    assert spark_archives(path) == path[:3]


def test_nothing_is_dropped_when_pyspark_lives_only_in_its_zip(
    installed: Path, tmp_path: Path
) -> None:
    path = spark_path(installed, tmp_path)
    assert spark_archives(path[:-1]) == []


def test_trim_drops_the_archives_and_their_cached_importers(
    installed: Path, tmp_path: Path
) -> None:
    path = spark_path(installed, tmp_path)
    importers: dict[str, object] = {entry: entry for entry in path}
    trim_path(path, importers)
    assert path == spark_path(installed, tmp_path)[3:]
    assert list(importers) == path
