"""Benchmark the releases parser and loader against plain references, in one run.

Parse: each run is a child process pinned to one CPU; it reports its wall and CPU time
(``time.process_time``) and the parent reads its peak RSS (``ru_maxrss`` from ``os.wait4``).
Three children per file:
  - ``discogs_parser``: ReleaseReader, full typed Release per record (what the CLI does);
  - ``lxml bare``: lxml iterparse + clear only, no field extraction (the floor for lxml);
  - ``etree ref``: a plain ``xml.etree.ElementTree.iterparse`` loop (count + clear) — the reference.
``rel/cpu-s`` (releases per CPU-second) is the per-core rate and holds on a busy shared box;
``rel/s`` is wall-clock.

Load (when Cassandra answers), each into a fresh keyspace, first N releases of the biggest file:
  - ``parse+load``: ReleaseReader -> ReleaseLoader, what ``discorecs parse releases`` does;
  - ``loader only``: ReleaseLoader on releases parsed before the clock starts;
  - ``driver ref``: the raw driver ceiling, the same rows (built before the clock starts) written
    with single-row prepared INSERTs via ``execute_concurrent_with_args`` (concurrency 64).
For load runs ``rel/cpu-s`` counts the client process only (Cassandra's CPU is not in it).

    .venv/bin/python benchmarks/bench_parser.py --sizes 100000,500000 --load-count 100000

Generated inputs live in benchmarks/out/ (git-ignored) and are reused between runs.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = REPO_ROOT / "benchmarks" / "out"
BENCH_KEYSPACE = "bench_releases"


class Clock:
    """Wall and CPU time (all threads of this process) since creation."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def result(self, releases: int) -> dict:
        return {
            "releases": releases,
            "seconds": time.perf_counter() - self.wall,
            "cpu_seconds": time.process_time() - self.cpu,
        }


def child_parse(path: Path) -> dict:
    from discogs_parser import ReleaseReader

    clock = Clock()
    count = sum(1 for _ in ReleaseReader(path))
    return clock.result(count)


def child_lxml(path: Path) -> dict:
    from lxml import etree

    clock = Clock()
    count = 0
    with gzip.open(path, "rb") as handle:
        for _, elem in etree.iterparse(handle, events=("end",), tag="release"):
            count += 1
            elem.clear(keep_tail=True)
            while elem.getprevious() is not None:
                del elem.getparent()[0]
    return clock.result(count)


def child_etree(path: Path) -> dict:
    import xml.etree.ElementTree as ET

    clock = Clock()
    count = 0
    with gzip.open(path, "rb") as handle:
        events = ET.iterparse(handle, events=("start", "end"))
        _, root = next(events)
        for event, elem in events:
            if event == "end" and elem.tag == "release":
                count += 1
                root.clear()
    return clock.result(count)


def child_load(path: Path, count: int, keyspace: str) -> dict:
    from discogs_parser.loader import loader_scope
    from discogs_parser.pipeline import run_releases
    from discorecs.core.settings import load_settings

    with loader_scope(load_settings(keyspace=keyspace)) as loader:
        clock = Clock()
        run_releases(path, [loader], limit=count)
        return clock.result(loader.stats.written)


def child_loader(path: Path, count: int, keyspace: str) -> dict:
    from discogs_parser import ReleaseReader
    from discogs_parser.loader import loader_scope
    from discorecs.core.settings import load_settings

    releases = list(itertools.islice(ReleaseReader(path), count))
    settings = load_settings(keyspace=keyspace)
    chunk = settings.loader.chunk_size
    with loader_scope(settings) as loader:
        clock = Clock()
        for i in range(0, len(releases), chunk):
            loader.write(releases[i : i + chunk])
        loader.flush()
        return clock.result(loader.stats.written)


def child_driver(path: Path, count: int, keyspace: str) -> dict:
    from cassandra.concurrent import execute_concurrent_with_args

    from discogs_parser import ReleaseReader
    from discogs_parser.loader import release_row
    from discorecs.core.cassandra import session_scope
    from discorecs.core.settings import load_settings
    from discorecs.core.tables import RELEASES

    rows = [release_row(r) for r in itertools.islice(ReleaseReader(path), count)]
    with session_scope(load_settings(keyspace=keyspace)) as session:
        insert = session.prepare(RELEASES.insert(keyspace))
        clock = Clock()
        execute_concurrent_with_args(session, insert, rows, concurrency=64)
        return clock.result(len(rows))


CHILDREN = {
    "parse": child_parse,
    "loader": child_loader,
    "lxml": child_lxml,
    "etree": child_etree,
    "load": child_load,
    "driver": child_driver,
}


def run_child(mode: str, *args: str, cpu: int | None = None) -> dict:
    """Run one measurement in a child; return its figures with CPU time and peak RSS."""

    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    proc = subprocess.Popen(
        [sys.executable, __file__, "_child", mode, *args],
        stdout=subprocess.PIPE,
        preexec_fn=pin,  # noqa: PLW1509
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"child {mode} failed with exit {proc.returncode}")
    result = json.loads(output.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def ensure_file(size: int) -> Path:
    path = OUT_DIR / f"releases-{size // 1000}k.xml.gz"
    if not path.exists():
        sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
        from generate_releases import generate

        print(f"generating {path} ...", flush=True)
        generate(size, path)
    return path


def line(label: str, r: dict) -> str:
    rate = r["releases"] / r["seconds"]
    per_cpu = r["releases"] / r["cpu_seconds"] if r["cpu_seconds"] else 0.0
    return (
        f"  {label:<16} releases={r['releases']:>7} seconds={r['seconds']:7.1f} "
        f"rel/s={rate:8,.0f} rel/cpu-s={per_cpu:8,.0f} peak_rss={r['peak_rss_mb']:6.0f}MB"
    )


def bench_parse(sizes: list[int]) -> None:
    cpu = sorted(os.sched_getaffinity(0))[-1]
    for size in sizes:
        path = ensure_file(size)
        mb = path.stat().st_size / 1e6
        print(f"parse {path.name} ({mb:.0f} MB gz), one child per line, pinned to CPU {cpu}:")
        for label, mode in (
            ("discogs_parser", "parse"),
            ("lxml bare", "lxml"),
            ("etree ref", "etree"),
        ):
            print(line(label, run_child(mode, str(path), cpu=cpu)), flush=True)


def cassandra_up() -> bool:
    from discorecs.core.cassandra import session_scope
    from discorecs.core.settings import load_settings

    try:
        with session_scope(load_settings()):
            return True
    except Exception:  # noqa: BLE001
        return False


def fresh_keyspace(name: str) -> None:
    from discorecs.core.cassandra import apply_schema, session_scope
    from discorecs.core.settings import load_settings

    with session_scope(load_settings()) as session:
        session.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=120)
        apply_schema(session, name)


def drop_keyspace(name: str) -> None:
    from discorecs.core.cassandra import session_scope
    from discorecs.core.settings import load_settings

    with session_scope(load_settings()) as session:
        session.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=120)


def bench_load(size: int, count: int) -> None:
    if not cassandra_up():
        print("load: Cassandra is not answering on the configured host; skipped")
        return
    path = ensure_file(size)
    print(f"load first {count} releases of {path.name} into the local Cassandra:")
    runs = (("parse+load", "load"), ("loader only", "loader"), ("driver ref", "driver"))
    for label, mode in runs:
        fresh_keyspace(BENCH_KEYSPACE)
        print(line(label, run_child(mode, str(path), str(count), BENCH_KEYSPACE)), flush=True)
    drop_keyspace(BENCH_KEYSPACE)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        mode, args = sys.argv[2], sys.argv[3:]
        fn = CHILDREN[mode]
        typed = [Path(args[0]), *(int(a) if a.isdigit() else a for a in args[1:])]
        print(json.dumps(fn(*typed)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,500000", help="comma-separated release counts")
    parser.add_argument("--load-count", type=int, default=100_000)
    parser.add_argument("--no-load", action="store_true")
    parser.add_argument("--no-parse", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    if not args.no_parse:
        bench_parse(sizes)
    if not args.no_load:
        bench_load(max(sizes), args.load_count)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
