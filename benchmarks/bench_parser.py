"""Benchmark the releases parser and loader against plain references, in one run.

Each measurement is a child process; it reports wall and CPU time (``time.process_time``, its own
threads) and the parent reads its peak RSS (``ru_maxrss`` from ``os.wait4``); a child that starts
parser processes also reports their CPU time and the largest peak RSS among them
(``RUSAGE_CHILDREN``). Per file:

  per core, each child pinned to one CPU, releases per CPU-second:
  - ``discogs_parser``: ``run_releases`` in one process, a typed Release per record;
  - ``lxml fields ref``: a plain lxml ``iterparse(tag="release")`` loop reading the same fields
    (findtext/iterfind, no conversion or checks) into plain tuples, clearing each element and
    its previous siblings: the reference the parser must match per core;
  - ``lxml bare``: the same loop without reading any field: the upper reference.
  The references decompress with zlib-ng as the parser does, so the ratios compare parsing.
  all CPUs, wall clock: ``run_releases`` with 1 and with N worker processes, and their ratio;
  beside it the box's own ceiling: N independent 1-process parses of the file started together,
  their combined rate over one alone (no coordination at all).

Load (when Cassandra answers), each into a fresh keyspace, the file of ``--load-count`` releases,
with the schema's secondary (SAI) indexes on ``releases`` and without them:
  - ``parse+load xN``: ``run_releases`` with the Cassandra sink and N workers, what
    ``discorecs parse releases`` does;
  - ``loader only``: one ReleaseLoader on releases parsed before the clock starts;
  - ``driver ref``: the raw driver, the same rows (built before the clock starts) written with
    single-row prepared INSERTs via ``execute_concurrent_with_args`` (concurrency 64).
For load runs ``rel/cpu-s`` counts the client processes only (Cassandra's CPU is not in it).

    .venv/bin/python benchmarks/bench_parser.py --sizes 100000,500000 --load-count 100000

Generated inputs live in benchmarks/out/ (git-ignored) and are reused between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from zlib_ng import gzip_ng

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = REPO_ROOT / "benchmarks" / "out"
BENCH_KEYSPACE = "bench_parser_releases"


class Clock:
    """Wall and CPU time (this process, and its waited-for children) since creation."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.children = resource.getrusage(resource.RUSAGE_CHILDREN)

    def result(self, releases: int) -> dict:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "releases": releases,
            "seconds": time.perf_counter() - self.wall,
            "cpu_seconds": time.process_time() - self.cpu,
            "workers_cpu_seconds": children.ru_utime
            + children.ru_stime
            - self.children.ru_utime
            - self.children.ru_stime,
            "workers_peak_rss_mb": children.ru_maxrss / 1024,
        }


def child_parse(path: Path, workers: int) -> dict:
    from discogs_parser.pipeline import run_releases

    clock = Clock()
    summary = run_releases(path, [], workers=workers)
    return clock.result(summary.releases)


def child_lxml_fields(path: Path) -> dict:
    from lxml import etree

    clock = Clock()
    count = 0
    with gzip_ng.open(path, "rb") as handle:
        for _, elem in etree.iterparse(handle, events=("end",), tag="release"):
            master = elem.find("master_id")
            tracklist = elem.find("tracklist")
            row = (
                elem.get("id"),
                elem.get("status"),
                elem.findtext("title"),
                tuple(
                    (a.findtext("id"), a.findtext("name"), a.findtext("anv"), a.findtext("join"))
                    for a in elem.iterfind("artists/artist")
                ),
                tuple(
                    (node.get("name"), node.get("catno"), node.get("id"))
                    for node in elem.iterfind("labels/label")
                ),
                tuple(
                    (
                        f.get("name"),
                        f.get("qty"),
                        f.get("text"),
                        tuple(d.text for d in f.iterfind("descriptions/description")),
                    )
                    for f in elem.iterfind("formats/format")
                ),
                tuple(g.text for g in elem.iterfind("genres/genre")),
                tuple(s.text for s in elem.iterfind("styles/style")),
                elem.findtext("country"),
                elem.findtext("released"),
                elem.findtext("data_quality"),
                None if master is None else (master.text, master.get("is_main_release")),
                0 if tracklist is None else len(tracklist),
            )
            count += row is not None
            elem.clear(keep_tail=True)
            while elem.getprevious() is not None:
                del elem.getparent()[0]
    return clock.result(count)


def child_lxml_bare(path: Path) -> dict:
    from lxml import etree

    clock = Clock()
    count = 0
    with gzip_ng.open(path, "rb") as handle:
        for _, elem in etree.iterparse(handle, events=("end",), tag="release"):
            count += 1
            elem.clear(keep_tail=True)
            while elem.getprevious() is not None:
                del elem.getparent()[0]
    return clock.result(count)


def child_load(path: Path, workers: int, keyspace: str) -> dict:
    from discogs_parser.loader import LoaderSink
    from discogs_parser.pipeline import run_releases
    from discorecs.core.settings import load_settings

    sink = LoaderSink(load_settings(keyspace=keyspace))
    clock = Clock()
    run_releases(path, [sink], workers=workers)
    return clock.result(sink.stats.written)


def child_loader(path: Path, keyspace: str) -> dict:
    from discogs_parser import ReleaseReader
    from discogs_parser.loader import open_loader
    from discorecs.core.settings import load_settings

    releases = list(ReleaseReader(path))
    cluster, loader = open_loader(load_settings(keyspace=keyspace))
    try:
        clock = Clock()
        for i in range(0, len(releases), 250):
            loader.write(releases[i : i + 250])
        loader.flush()
        return clock.result(loader.stats.written)
    finally:
        cluster.shutdown()


def child_driver(path: Path, keyspace: str) -> dict:
    from cassandra.concurrent import execute_concurrent_with_args

    from discogs_parser import ReleaseReader
    from discogs_parser.loader import release_row
    from discorecs.core.cassandra import session_scope
    from discorecs.core.settings import load_settings
    from discorecs.core.tables import RELEASES

    rows = [release_row(r) for r in ReleaseReader(path)]
    with session_scope(load_settings(keyspace=keyspace)) as session:
        insert = session.prepare(RELEASES.insert(keyspace))
        clock = Clock()
        execute_concurrent_with_args(session, insert, rows, concurrency=64)
        return clock.result(len(rows))


CHILDREN = {
    "parse": child_parse,
    "lxml_fields": child_lxml_fields,
    "lxml_bare": child_lxml_bare,
    "load": child_load,
    "loader": child_loader,
    "driver": child_driver,
}


def start_child(mode: str, *args: str, cpu: int | None = None) -> subprocess.Popen[bytes]:
    """Start one measurement in a child (pinned to ``cpu`` when given)."""

    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    return subprocess.Popen(
        [sys.executable, __file__, "_child", mode, *args],
        stdout=subprocess.PIPE,
        preexec_fn=pin,  # noqa: PLW1509
    )


def finish_child(proc: subprocess.Popen[bytes], mode: str) -> dict:
    """Wait for a child; return its figures with CPU time and peak RSS."""
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child {mode} failed with exit {os.waitstatus_to_exitcode(status)}")
    result = json.loads(output.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def run_child(mode: str, *args: str, cpu: int | None = None) -> dict:
    """Run one measurement in a child; return its figures with CPU time and peak RSS."""
    return finish_child(start_child(mode, *args, cpu=cpu), mode)


def box_ceiling(path: Path, copies: int) -> float:
    """How much faster ``copies`` independent 1-process parses run at once than one alone.

    The same file parsed by ``copies`` children started together: their combined rate over the
    rate of one child alone, measured just before. No coordination at all, so this is what the
    box itself allows N parser processes (cores shared with other jobs, memory bandwidth).
    """
    alone = run_child("parse", str(path), "1")
    procs = [start_child("parse", str(path), "1") for _ in range(copies)]
    together = [finish_child(proc, "parse") for proc in procs]
    wall = max(r["seconds"] for r in together)
    return (sum(r["releases"] for r in together) / wall) / (alone["releases"] / alone["seconds"])


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
    cpu = r["cpu_seconds"] + r["workers_cpu_seconds"]
    per_cpu = r["releases"] / cpu if cpu else 0.0
    workers = (
        f" workers_peak_rss={r['workers_peak_rss_mb']:4.0f}MB" if r["workers_cpu_seconds"] else ""
    )
    return (
        f"  {label:<18} releases={r['releases']:>7} seconds={r['seconds']:6.1f} "
        f"rel/s={rate:7,.0f} rel/cpu-s={per_cpu:7,.0f} peak_rss={r['peak_rss_mb']:4.0f}MB{workers}"
    )


def best(mode: str, args: list[str], repeat: int, cpu: int | None = None) -> dict:
    """The fastest of ``repeat`` runs (the box is shared: slower runs were interrupted more)."""
    runs = [run_child(mode, *args, cpu=cpu) for _ in range(repeat)]
    return min(runs, key=lambda r: r["seconds"])


def bench_parse(sizes: list[int], workers: int, repeat: int) -> None:
    cpu = sorted(os.sched_getaffinity(0))[-1]
    for size in sizes:
        path = ensure_file(size)
        mb = path.stat().st_size / 1e6
        print(f"parse {path.name} ({mb:.0f} MB gz), per core: pinned to CPU {cpu}", flush=True)
        own = best("parse", [str(path), "1"], repeat, cpu)
        print(line("discogs_parser", own), flush=True)
        ref = best("lxml_fields", [str(path)], repeat, cpu)
        print(line("lxml fields ref", ref), flush=True)
        bare = best("lxml_bare", [str(path)], repeat, cpu)
        print(line("lxml bare", bare), flush=True)
        own_cpu = own["releases"] / own["cpu_seconds"]
        print(
            f"  per core: discogs_parser / lxml fields ref = "
            f"{own_cpu / (ref['releases'] / ref['cpu_seconds']):.2f}, "
            f"/ lxml bare = {own_cpu / (bare['releases'] / bare['cpu_seconds']):.2f}"
        )
        print(f"parse {path.name}, all CPUs, 1 process vs {workers} workers:", flush=True)
        one = best("parse", [str(path), "1"], repeat)
        print(line("1 process", one), flush=True)
        many = best("parse", [str(path), str(workers)], repeat)
        print(line(f"{workers} workers", many), flush=True)
        print(f"  speed-up x{workers}: {one['seconds'] / many['seconds']:.2f}", flush=True)
        ceiling = box_ceiling(path, workers)
        print(f"  box ceiling: {workers} independent 1-process parses at once = {ceiling:.2f}x one")


def cassandra_up() -> bool:
    from discorecs.core.cassandra import session_scope
    from discorecs.core.settings import load_settings

    try:
        with session_scope(load_settings()):
            return True
    except Exception:  # noqa: BLE001
        return False


def fresh_keyspace(name: str, *, indexes: bool) -> list[str]:
    """Create the keyspace with the schema; without ``indexes``, drop those on ``releases``."""
    from discorecs.core.cassandra import apply_schema, session_scope
    from discorecs.core.settings import load_settings

    with session_scope(load_settings()) as session:
        session.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=120)
        apply_schema(session, name)
        indexes_of = session.prepare(
            "SELECT index_name FROM system_schema.indexes "
            "WHERE keyspace_name = ? AND table_name = 'releases'"
        )
        rows = session.execute(indexes_of, (name,))
        found = [row.index_name for row in rows]
        if not indexes:
            for index in found:
                session.execute(f"DROP INDEX {name}.{index}", timeout=120)
        return found


def drop_keyspace(name: str) -> None:
    from discorecs.core.cassandra import session_scope
    from discorecs.core.settings import load_settings

    with session_scope(load_settings()) as session:
        session.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=120)


def bench_load(count: int, workers: int, sai: list[str]) -> None:
    if not cassandra_up():
        print("load: Cassandra is not answering on the configured host; skipped")
        return
    path = ensure_file(count)
    try:
        for variant in sai:
            indexes = variant == "with"
            found = fresh_keyspace(BENCH_KEYSPACE, indexes=indexes)
            names = ", ".join(found) or "none in the schema"
            state = f"with the SAI indexes on releases ({names})" if indexes else "without"
            print(f"load {path.name} into the local Cassandra, {state}:", flush=True)
            runs = (
                (f"parse+load x{workers}", "load", [str(workers)]),
                ("parse+load x1", "load", ["1"]),
                ("loader only", "loader", []),
                ("driver ref", "driver", []),
            )
            for label, mode, args in runs:
                fresh_keyspace(BENCH_KEYSPACE, indexes=indexes)
                print(line(label, run_child(mode, str(path), *args, BENCH_KEYSPACE)), flush=True)
    finally:
        drop_keyspace(BENCH_KEYSPACE)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        mode, args = sys.argv[2], sys.argv[3:]
        typed = [Path(args[0]), *(int(a) if a.isdigit() else a for a in args[1:])]
        print(json.dumps(CHILDREN[mode](*typed)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,500000", help="comma-separated release counts")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--repeat", type=int, default=1, help="runs per parse line (best kept)")
    parser.add_argument("--load-count", type=int, default=100_000)
    parser.add_argument("--sai", default="with,without", help="load with and/or without SAI")
    parser.add_argument("--no-load", action="store_true")
    parser.add_argument("--no-parse", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    if not args.no_parse:
        bench_parse(sizes, args.workers, args.repeat)
    if not args.no_load:
        bench_load(args.load_count, args.workers, args.sai.split(","))
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
