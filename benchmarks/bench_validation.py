"""Records/s the stream's validation step checks on one core, beside its references.

The same records, from the producers' own generator with 1 % malformed on purpose, go through
three loops in the same process, alternating, each round timed on the process's CPU clock:

- ``stream``: :func:`spark_jobs.stream.validation.validate_batches`, what each micro-batch's
  ``mapInArrow`` runs (Arrow batches of 10 000 records in, validated columns out).
- ``reference``: :func:`discorecs.core.events.validate` on each record, the one definition of a
  valid event (what the stream ran per record before its msgspec fast path); no Arrow.
- ``json.loads``: parsing alone, no check and no Arrow: a floor under any validator built on
  the standard library.

Usage: ``.venv/bin/python benchmarks/bench_validation.py [--records 200000] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pyarrow as pa

from discorecs.core import events
from kafka_producers.demo_catalog import demo_catalog
from kafka_producers.synthetic import EventStream
from spark_jobs.stream.validation import KAFKA_COLUMNS, RECORD_TIME, validate_batches

BATCH = 10_000


def records(n: int) -> tuple[list[str], list[bytes]]:
    """``n`` collection and activity messages (profiles first, as the producer sends them)."""
    stream = EventStream(demo_catalog(5_000), n_users=10_000, seed=1, bad_ratio=0.01)
    topics: list[str] = []
    values: list[bytes] = []
    while len(values) < n:
        chunk = stream.next_chunk(BATCH, 1_796_000_000_000)
        topics += [events.KINDS[t] for t in chunk.topics]
        values += chunk.values
    return topics[:n], values[:n]


def arrow_batches(topics: list[str], values: list[bytes]) -> list[pa.RecordBatch]:
    """The records as the Kafka source hands them to ``mapInArrow``."""
    n = len(values)
    whole = pa.RecordBatch.from_arrays(
        [
            pa.array(topics, pa.string()),
            pa.array([0] * n, pa.int32()),
            pa.array(range(n), pa.int64()),
            pa.array([b"1"] * n, pa.binary()),
            pa.array(values, pa.binary()),
            pa.array([datetime.now(UTC)] * n, pa.timestamp("us", tz="UTC")),
        ],
        names=[*KAFKA_COLUMNS, RECORD_TIME],
    )
    return [whole.slice(i, BATCH) for i in range(0, n, BATCH)]


def parse_only(topics: list[str], values: list[bytes]) -> None:
    """The ``json.loads`` floor (malformed records skipped)."""
    for value in values:
        try:
            json.loads(value)
        except ValueError:
            continue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    topics, values = records(args.records)
    batches = arrow_batches(topics, values)
    loops: dict[str, Callable[[], object]] = {
        "stream": lambda: sum(b.num_rows for b in validate_batches(batches)),
        "reference": lambda: [events.validate(t, v) for t, v in zip(topics, values, strict=True)],
        "json.loads": lambda: parse_only(topics, values),
    }
    rates: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(args.rounds):
        for name, loop in loops.items():
            start = time.process_time()
            loop()
            rates[name].append(len(values) / (time.process_time() - start))
    median = {name: statistics.median(r) for name, r in rates.items()}
    print(f"{len(values)} records, {args.rounds} rounds, median records per CPU-second:")
    for name, rate in median.items():
        print(f"  {name:<11} {rate:>10,.0f}/s   stream / this {median['stream'] / rate:.2f}")


if __name__ == "__main__":
    main()
