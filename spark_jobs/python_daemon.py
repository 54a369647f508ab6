"""The executors' Python worker daemon: PySpark's own, minus the archives Spark puts on its path.

Set as ``spark.python.daemon.module``. Spark starts ``pyspark.daemon`` with ``pyspark.zip``,
py4j's zip and the spark-core jar first on ``PYTHONPATH``, so pyspark is imported from the zip,
and every task's worker calls ``importlib.invalidate_caches()``, which in Python 3.11 makes each
zip importer (one per subpackage imported from an archive) read its archive's directory again:
about 17 000 entries, 80-150 ms a task on two busy cores (docs/benchmarks.md, "Twenty-fourth
pass"). When pyspark and py4j are installed as packages (this venv, the image), those archive
entries are dropped before pyspark is imported; the workers forked from the daemon inherit the
shorter path.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def without_archives(path: list[str]) -> list[str]:
    """``path`` without its archive files (zips, jars): directories and missing entries stay."""
    return [entry for entry in path if not os.path.isfile(entry)]


def packages_outside_archives(path: list[str], names: tuple[str, ...]) -> bool:
    """Whether every module of ``names`` can be found on ``path`` (searched without importing)."""
    saved = sys.path[:]
    sys.path[:] = path
    try:
        return all(importlib.util.find_spec(name) is not None for name in names)
    finally:
        sys.path[:] = saved


def trim_path() -> None:
    """Drop the archive entries of ``sys.path`` if pyspark and py4j stay importable without them.

    Their importers, cached while this module was being found, are dropped too.
    """
    trimmed = without_archives(sys.path)
    if trimmed != sys.path and packages_outside_archives(trimmed, ("pyspark", "py4j")):
        for entry in set(sys.path) - set(trimmed):
            sys.path_importer_cache.pop(entry, None)
        sys.path[:] = trimmed


if __name__ == "__main__":
    trim_path()
    from pyspark import daemon

    daemon.manager()
