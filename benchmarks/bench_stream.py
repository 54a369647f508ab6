"""Sustained Kafka -> Spark -> Cassandra events/s, beside the local Cassandra's own write ceiling.

One run, same box, one after the other:

1. ``pipeline``: ``discorecs.app.loadtest.run_load`` at ``--rate`` for ``--duration`` seconds, the
   producer running beside the streaming job: consumed events/s, steady-state p50/p99
   event-time-to-written latency, max lag, and the loss/duplicate check against the truth.
2. ``ceiling``: the same kind of rows (one ``user_activity`` row per event, as most events are
   activity) written by a plain driver loop, ``execute_concurrent_with_args`` of single-row
   prepared INSERTs at concurrency 64, in 2 processes (what 2 cores allow), for
   ``--ceiling-seconds``.

Usage: ``.venv/bin/python benchmarks/bench_stream.py --rate 10000 --duration 600``
Targets (issue 6): >= 20K events/s sustained for 10 minutes, p99 < 5 s, >= 50% of the ceiling.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import uuid
from datetime import UTC, datetime

from cassandra.concurrent import execute_concurrent_with_args

from discorecs.app.loadtest import run_load
from discorecs.core.cassandra import apply_schema, session_scope
from discorecs.core.settings import load_settings


def _ceiling_worker(keyspace: str, seconds: float, worker: int, out: multiprocessing.Queue) -> None:
    settings = load_settings(keyspace=keyspace)
    with session_scope(settings) as session:
        insert = session.prepare(
            f"INSERT INTO {keyspace}.user_activity "
            "(user_id, event_time, event_id, kind, release_id) VALUES (?, ?, ?, ?, ?)"
        )
        written, started = 0, time.monotonic()
        while time.monotonic() - started < seconds:
            now = datetime.now(UTC)
            rows = [
                (worker * 1_000_000 + i % 10_000, now, uuid.uuid4(), "play", 1 + i % 800)
                for i in range(5_000)
            ]
            execute_concurrent_with_args(session, insert, rows, concurrency=64)
            written += len(rows)
        out.put(written / (time.monotonic() - started))


def cassandra_ceiling(seconds: float, processes: int = 2) -> float:
    """Rows/s a plain concurrent driver loop writes into the local Cassandra."""
    settings = load_settings(keyspace=f"ceiling_{uuid.uuid4().hex[:8]}", topic_prefix="ceiling.")
    try:
        with session_scope(settings) as session:
            apply_schema(session, settings.keyspace)
        queue: multiprocessing.Queue = multiprocessing.Queue()
        workers = [
            multiprocessing.Process(
                target=_ceiling_worker, args=(settings.keyspace, seconds, w, queue)
            )
            for w in range(processes)
        ]
        for worker in workers:
            worker.start()
        # a worker that failed (a write timeout) sends nothing: give up instead of waiting
        rates = [queue.get(timeout=seconds + 120) for _ in workers]
        for worker in workers:
            worker.join()
    finally:
        with session_scope(settings) as session:
            session.execute(f"DROP KEYSPACE IF EXISTS {settings.keyspace}", timeout=120)
    return sum(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10_000)
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--ceiling-seconds", type=float, default=30)
    args = parser.parse_args()
    settings = load_settings()

    report = run_load(settings, rate=args.rate, duration=args.duration, users=args.users)
    ceiling = cassandra_ceiling(args.ceiling_seconds)
    print(
        f"pipeline: rate={args.rate:.0f}/s duration={args.duration:.0f}s "
        f"consumed={report.consumed_rate:.0f}/s p50_ms={report.latency_p50_ms:.0f} "
        f"p99_ms={report.latency_p99_ms:.0f} max_lag={report.max_lag} "
        f"lost={report.lost} duplicated={report.duplicated} held={report.held()}"
    )
    print(f"ceiling:  plain driver single-row inserts, 2 processes: {ceiling:.0f} rows/s")
    print(f"ratio:    pipeline consumed / Cassandra ceiling = {report.consumed_rate / ceiling:.2f}")


if __name__ == "__main__":
    main()
