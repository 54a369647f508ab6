"""A Python task's fixed cost: the project's worker daemon against PySpark's own, same run.

    .venv/bin/python benchmarks/bench_python_tasks.py --jobs 40 --rounds 2

No cluster needed (Spark in ``local[2]``). Each round opens a Spark session with the project's
daemon (:mod:`spark_jobs.python_daemon`, as every job of the project runs), then one that differs
only in ``spark.python.daemon.module`` (PySpark's ``pyspark.daemon``: the reference), and in each
runs ``--jobs`` jobs of two tiny tasks (2 000 rows) of three kinds after a warm-up: a count with
no Python (the floor), ``rdd.mapPartitions().collect()`` (pickled rows, as the collection and
dead-letter writers) and ``mapInArrow().count()`` (Arrow batches, as the validation). Printed: ms
a job, and what one task's ``importlib.invalidate_caches()`` costs inside a worker with the zip
importers it holds.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa
from pyspark.sql import SparkSession

from discorecs.core.settings import load_settings
from spark_jobs.session import spark_session

PROJECT = "spark_jobs.python_daemon"
PYSPARK = "pyspark.daemon"
ROWS = 2_000
WARM_UP_JOBS = 5


def passthrough(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` body that changes nothing."""
    yield from batches


def count_rows(rows: Iterable[object]) -> list[int]:
    """``mapPartitions`` body: one partition's row count."""
    return [sum(1 for _ in rows)]


def invalidate_cost(_rows: Iterable[object]) -> list[tuple[int, float]]:
    """``mapPartitions`` body: (zip importers held, ms of one ``invalidate_caches()``)."""
    import importlib
    import sys
    import zipimport

    zips = sum(isinstance(v, zipimport.zipimporter) for v in sys.path_importer_cache.values())
    started = time.perf_counter()
    importlib.invalidate_caches()
    return [(zips, (time.perf_counter() - started) * 1000)]


def ms_per_job(run: Callable[[], object], jobs: int) -> float:
    """Mean ms of ``jobs`` runs of ``run`` after a warm-up."""
    for _ in range(WARM_UP_JOBS):
        run()
    started = time.perf_counter()
    for _ in range(jobs):
        run()
    return (time.perf_counter() - started) / jobs * 1000


def measure(spark: SparkSession, jobs: int) -> dict[str, float]:
    """ms a job of each kind, and the workers' zip importers and invalidation ms."""
    frame = spark.range(0, ROWS, numPartitions=2)
    result = {
        "no Python": ms_per_job(frame.count, jobs),
        "rdd.mapPartitions": ms_per_job(
            lambda: frame.rdd.mapPartitions(count_rows).collect(), jobs
        ),
        "mapInArrow": ms_per_job(lambda: frame.mapInArrow(passthrough, frame.schema).count(), jobs),
    }
    probes = frame.rdd.mapPartitions(invalidate_cost).collect()
    result["zip importers"] = max(zips for zips, _ in probes)
    result["invalidate ms"] = max(ms for _, ms in probes)
    return result


def session(module: str) -> SparkSession:
    """The project's session, or one differing only in the daemon module."""
    spark = spark_session(load_settings(), "bench_python_tasks")
    if module == PROJECT:
        return spark
    spark.stop()
    return SparkSession.builder.config("spark.python.daemon.module", module).getOrCreate()


def main() -> None:
    """Parse arguments, measure both daemons ``--rounds`` times, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=40, help="Timed jobs of each kind.")
    parser.add_argument("--rounds", type=int, default=2, help="Rounds of both daemons.")
    args = parser.parse_args()
    print(f"{'round':>5} {'daemon':24} {'no Python':>10} {'rdd':>8} {'arrow':>8} zips inval.ms")
    for round_no in range(1, args.rounds + 1):
        for module in (PROJECT, PYSPARK):
            spark = session(module)
            daemon = spark.conf.get("spark.python.daemon.module", PYSPARK)
            r = measure(spark, args.jobs)
            spark.stop()
            print(
                f"{round_no:>5} {daemon:24} {r['no Python']:>10.1f} {r['rdd.mapPartitions']:>8.1f}"
                f" {r['mapInArrow']:>8.1f} {int(r['zip importers']):>4} {r['invalidate ms']:>8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
