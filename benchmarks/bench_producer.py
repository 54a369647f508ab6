"""Events/s one producer process sustains into the local broker, beside the raw ceiling.

Both measurements run in the same process, one after the other, against the same broker, with the
same producer configuration (``discorecs.core.topics.producer_config``) and fresh topics:

- ``synthetic``: ``produce_stream`` end to end: generation (in its child process) + serialisation
  + produce + flush.
- ``raw``: the confluent-kafka ceiling: pre-built payloads of the same sizes (a pool of real
  generated messages, cycled), same keys and topic mix, no generation; only produce + flush.

Usage: ``.venv/bin/python benchmarks/bench_producer.py [--seconds 10] [--users 10000]``
Targets: >= 100K events/s and >= 50% of the raw ceiling.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import uuid

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from discorecs.core import events
from discorecs.core.catalog import load_jsonl
from discorecs.core.settings import load_settings
from discorecs.core.topics import apply_topics, producer_config
from kafka_producers.demo_catalog import demo_catalog
from kafka_producers.generator_process import MAX_CHUNK
from kafka_producers.producer import produce_stream, send_chunk
from kafka_producers.synthetic import EventStream


def cpu_seconds() -> float:
    """CPU of this process and its reaped children (the generator process), all threads."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def raw_ceiling(settings, topics, keys, values, seconds: float) -> tuple[int, float]:
    """Same producer, config and send loop as produce_stream, fed pre-built messages."""
    failed = {"n": 0}

    def on_delivery(err, _msg) -> None:
        if err is not None:
            failed["n"] += 1

    producer = Producer({**producer_config(settings), "on_delivery": on_delivery})
    chunks = [
        (topics[i : i + MAX_CHUNK], keys[i : i + MAX_CHUNK], values[i : i + MAX_CHUNK])
        for i in range(0, len(values), MAX_CHUNK)
    ]
    sent = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        chunk_topics, chunk_keys, chunk_values = chunks[(sent // MAX_CHUNK) % len(chunks)]
        send_chunk(producer, chunk_topics, chunk_keys, chunk_values)
        producer.poll(0)
        sent += len(chunk_values)
    remaining = producer.flush(120)
    elapsed = time.monotonic() - start
    assert failed["n"] == 0 and remaining == 0, (failed, remaining)
    return sent, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per run")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2, help="alternating raw/synthetic runs")
    parser.add_argument("--releases", type=int, default=200_000, help="demo catalogue size")
    parser.add_argument("--catalog", help="parser JSONL instead of the demo catalogue")
    args = parser.parse_args()

    settings = load_settings(topic_prefix=f"bench_{uuid.uuid4().hex[:8]}.")
    created = apply_topics(settings)
    catalog = load_jsonl(args.catalog) if args.catalog else demo_catalog(args.releases, seed=1)
    try:
        # Raw ceiling: a pool of real messages from a separate stream (profiles skipped).
        pool_stream = EventStream(catalog, n_users=args.users, seed=99)
        while pool_stream.profiles_pending:
            pool_stream.next_chunk(MAX_CHUNK, 0)
        topic_names = [settings.topic(k) for k in events.KINDS]
        keys, values, topics = [], [], []
        while len(values) < 200 * MAX_CHUNK:
            chunk = pool_stream.next_chunk(MAX_CHUNK, 0)
            keys += chunk.keys
            values += chunk.values
            topics += [topic_names[t] for t in chunk.topics]
        mean_size = sum(map(len, values)) / len(values)
        raw_rates, runs = [], []
        cpu: dict[str, list[float]] = {"raw": [], "synthetic": []}
        for seed in range(args.rounds):
            cpu_start = cpu_seconds()
            raw_n, raw_s = raw_ceiling(settings, topics, keys, values, args.seconds)
            cpu["raw"].append((cpu_seconds() - cpu_start) / raw_n)
            raw_rates.append(raw_n / raw_s)
            stream = EventStream(catalog, n_users=args.users, seed=seed)
            cpu_start = cpu_seconds()
            stats = produce_stream(stream, settings, rate=0, duration=args.seconds)
            cpu["synthetic"].append((cpu_seconds() - cpu_start) / stats.events)
            assert stats.failed == 0
            runs.append(stats)
    finally:
        admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
        for future in admin.delete_topics(created, operation_timeout=30).values():
            future.result()

    print(
        f"payload_mean_bytes={mean_size:.0f} users={args.users} releases={len(catalog)} "
        f"seconds={args.seconds:.0f} rounds={args.rounds} (lz4, linger.ms=20, acks=all, idempotent)"
    )
    for i, (raw_rate, stats) in enumerate(zip(raw_rates, runs, strict=True)):
        print(f"round {i}: raw ceiling {raw_rate:,.0f} msg/s | synthetic {stats.summary()}")
    raw_cpu, synthetic_cpu = (statistics.median(cpu[k]) * 1e6 for k in ("raw", "synthetic"))
    print(
        f"CPU per event (all threads and the generator process): raw={raw_cpu:.2f}us "
        f"synthetic={synthetic_cpu:.2f}us cpu_ratio={raw_cpu / synthetic_cpu:.2f}"
    )
    raw_rate = statistics.median(raw_rates)
    rate = statistics.median(s.rate for s in runs)
    ratio = rate / raw_rate
    print(
        f"median: raw={raw_rate:,.0f}/s synthetic={rate:,.0f}/s ratio={ratio:.2f} "
        f"target_rate={'met' if rate >= 100_000 else 'MISSED'} "
        f"target_ratio={'met' if ratio >= 0.5 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
