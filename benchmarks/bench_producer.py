"""Events/s one producer process sustains into the local broker, beside the raw ceiling.

Both measurements run in the same process, one after the other, against the same broker, with the
same producer configuration (``kafka_producers.producer.producer_config``) and fresh topics:

- ``synthetic``: ``produce_stream`` end to end: generation + serialisation + produce + flush.
- ``raw``: the confluent-kafka ceiling: pre-built payloads of the same sizes (a pool of real
  generated messages, cycled), same keys and topic mix, no generation; only produce + flush.

Usage: ``.venv/bin/python benchmarks/bench_producer.py [--seconds 10] [--users 10000]``
Targets: >= 100K events/s and >= 50% of the raw ceiling.
"""

from __future__ import annotations

import argparse
import time
import uuid

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from discorecs.settings import load_settings
from discorecs.topics import apply_topics
from kafka_producers import events
from kafka_producers.catalog import load_jsonl
from kafka_producers.demo_catalog import demo_catalog
from kafka_producers.producer import MAX_CHUNK, produce_stream, producer_config
from kafka_producers.synthetic import EventStream


def raw_ceiling(settings, topics, keys, values, seconds: float) -> tuple[int, float]:
    failed = {"n": 0}

    def on_delivery(err, _msg) -> None:
        if err is not None:
            failed["n"] += 1

    producer = Producer({**producer_config(settings), "on_delivery": on_delivery})
    produce = producer.produce
    n = len(values)
    sent = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        for i in range(sent % n, min(sent % n + MAX_CHUNK, n)):
            while True:
                try:
                    produce(topics[i], values[i], keys[i])
                    break
                except BufferError:
                    producer.poll(0.05)
        sent += min(MAX_CHUNK, n - sent % n)
        producer.poll(0)
    remaining = producer.flush(120)
    elapsed = time.monotonic() - start
    assert failed["n"] == 0 and remaining == 0, (failed, remaining)
    return sent, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=10_000)
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
        while len(values) < 200_000:
            chunk = pool_stream.next_chunk(MAX_CHUNK, 0)
            keys += chunk.keys
            values += chunk.values
            topics += [topic_names[t] for t in chunk.topics]
        mean_size = sum(map(len, values)) / len(values)
        raw_n, raw_s = raw_ceiling(settings, topics, keys, values, args.seconds)
        raw_rate = raw_n / raw_s

        stream = EventStream(catalog, n_users=args.users, seed=7)
        stats = produce_stream(stream, settings, rate=0, duration=args.seconds)
        assert stats.failed == 0
    finally:
        admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
        for future in admin.delete_topics(created, operation_timeout=30).values():
            future.result()

    print(
        f"payload_mean_bytes={mean_size:.0f} users={args.users} releases={len(catalog)} "
        f"seconds={args.seconds:.0f} (config: lz4, linger.ms=20, acks=all, idempotent)"
    )
    print(f"raw confluent-kafka ceiling: {raw_n} msgs in {raw_s:.2f}s = {raw_rate:,.0f} msg/s")
    print(f"synthetic producer:          {stats.summary()}")
    ratio = stats.rate / raw_rate
    print(
        f"ratio={ratio:.2f} target_rate={'met' if stats.rate >= 100_000 else 'MISSED'} "
        f"target_ratio={'met' if ratio >= 0.5 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
