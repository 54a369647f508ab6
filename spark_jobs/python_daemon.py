"""The executors' Python worker daemon: PySpark's own, minus the archives Spark puts on its path.

Set as ``spark.python.daemon.module``. Spark starts ``pyspark.daemon`` with ``pyspark.zip``,
py4j's zip and the spark-core jar first on ``PYTHONPATH``, so pyspark is imported from the zip,
and every task's worker calls ``importlib.invalidate_caches()``, which in Python 3.11 makes each
zip importer (one per subpackage imported from an archive) read its archive's directory again:
about 17 000 entries, 80-150 ms a task on two busy cores (docs/benchmarks.md, "Twenty-fourth
pass"). When pyspark and py4j are installed as packages (this venv, the image), those three
entries (all inside the installed pyspark package) are dropped before pyspark is imported; the
workers forked from the daemon inherit the shorter path.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import PathFinder
from typing import Any


def package_folder(path: list[str], name: str) -> str | None:
    """The folder top-level package ``name`` would be imported from on ``path`` (not imported).

    Searched on ``path`` alone: neither ``sys.path`` nor the modules already imported count.
    """
    spec = PathFinder.find_spec(name, path)
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.fspath(spec.submodule_search_locations[0])


def spark_archives(path: list[str]) -> list[str]:
    """The archive entries of ``path`` shipped inside the installed pyspark package.

    ``pyspark.zip``, py4j's zip and the spark-core jar all lie in the pyspark package's own
    folder. They are returned only if pyspark and py4j can be imported from the path's folders
    alone; archives anywhere else are never returned.
    """
    folders = [entry for entry in path if not os.path.isfile(entry)]
    pyspark = package_folder(folders, "pyspark")
    if pyspark is None or package_folder(folders, "py4j") is None:
        return []
    inside = pyspark + os.sep
    return [entry for entry in path if os.path.isfile(entry) and entry.startswith(inside)]


def trim_path(path: list[str], importers: dict[str, Any]) -> None:
    """Drop pyspark's own archives from ``path`` and their cached importers, in place.

    Args:
        path: The import path (``sys.path`` in the daemon).
        importers: The importers cached per path entry (``sys.path_importer_cache``).

    """
    for entry in spark_archives(path):
        path.remove(entry)
        importers.pop(entry, None)


if __name__ == "__main__":
    trim_path(sys.path, sys.path_importer_cache)
    from pyspark import daemon

    daemon.manager()
