"""The taste vector index's cost per row written and its recall, by graph and compaction setting.

    .venv/bin/python benchmarks/bench_vector_index.py --rows 60000
    .venv/bin/python benchmarks/bench_vector_index.py --rows 600000 --settings 8:24 \
        --thresholds schema,4:32 --settle --rounds 1

Needs the local cluster (``discorecs cluster up``). For each setting (``M:beam``: the SAI vector
index's ``maximum_node_connections`` and ``construction_beam_width``; Cassandra's defaults are 16
and 100; ``0:0`` drops the index, the reference: the same rows' write without a graph) and each
size-tiered compaction threshold (``MIN:MAX`` sstables merged at once; ``schema``: the schema's
own, Cassandra's default is ``4:32``) a fresh keyspace gets the project's schema, its
``users_scored_taste_ann`` index re-created with that setting, and ``--rows`` full ``users_scored``
rows (taste vector, friend, a top-10 list) written through the Spark connector as the hourly job
writes them (in DataFrames of ``WRITE_PART`` rows, converted before the clock starts). Printed per
case: rows/s of the write (memtable flushes and the compactions that start meanwhile included) with
the Cassandra node's CPU seconds during it; with ``--settle``, also the wait for the compactions
left behind (each rebuilds the merged sstables' graphs), the node's CPU seconds from the write's
start until then and the sstables left; and the cqlsh/API ANN query's recall@10 against exact
cosine search in numpy over the same vectors, with its median latency. The cases run in the order
given, ``--rounds`` times; the first round carries the JVMs' warm-up. The tastes are those of
``bench_scoring.py``'s synthetic world.
"""

from __future__ import annotations

import argparse
import re
import time
import uuid
from datetime import UTC, datetime

import numpy as np
from bench_scoring import build_world
from bench_scoring_e2e import settle

from deployment.cluster import CassandraService
from deployment.processes import cpu_seconds
from discorecs.app.loadtest import terminated_as_exit
from discorecs.core.cassandra import apply_schema, drop_keyspace, schema_statements, session_scope
from discorecs.core.genres import GENRES
from discorecs.core.settings import Settings, load_settings
from discorecs.core.tables import USERS_SCORED
from spark_jobs.connector import write_table
from spark_jobs.scoring.taste import has_taste, taste_vectors
from spark_jobs.scoring.writers import WRITE_PART
from spark_jobs.session import spark_session

INDEX = "users_scored_taste_ann"
LIST_LENGTH = 10


def tastes(rows: int, seed: int) -> np.ndarray:
    """Non-zero taste vectors of a synthetic world of ``rows`` users (cold-start ones dropped)."""
    rng = np.random.default_rng(seed)
    collections, features = build_world(rng, rows, 50_000, 19)
    users = np.repeat(np.arange(collections.n_users), collections.sizes())
    taste = taste_vectors(users, collections.indices, features.genre_weights, collections.n_users)
    return taste[has_taste(taste)]


def records(taste: np.ndarray, seed: int) -> list[tuple]:
    """Full ``users_scored`` rows, in declaration order, one per taste vector."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    listed = rng.integers(1, 50_000, size=(len(taste), LIST_LENGTH))
    out = []
    for i, vector in enumerate(taste.tolist()):
        top = int(np.argmax(taste[i]))
        out.append(
            (
                i + 1,
                vector,
                GENRES[top],
                {GENRES[top]: 50},
                int(rng.integers(1, len(taste) + 1)),
                0.9,
                int(listed[i, 0]),
                f"Release {listed[i, 0]}",
                [(int(r), f"Release {r}", 1.0 / (k + 1)) for k, r in enumerate(listed[i].tolist())],
                19,
                now,
            )
        )
    return out


def recreate_index(settings: Settings, connections: int, beam: int) -> None:
    """Drop the taste index of a fresh keyspace and create it with this graph setting (0: none).

    The statement is the schema's own (``schema/03_indexes.cql``) with the two values replaced.
    """
    create = next(s for s in schema_statements(settings.keyspace) if f" {INDEX} ON " in s)
    for option, value in (
        ("maximum_node_connections", connections),
        ("construction_beam_width", beam),
    ):
        create, found = re.subn(rf"'{option}': '\d+'", f"'{option}': '{value}'", create)
        if found != 1:
            raise ValueError(f"the schema's {INDEX} does not set {option} once")
    with session_scope(settings) as session:
        session.execute(f"DROP INDEX IF EXISTS {settings.keyspace}.{INDEX}", timeout=60)
        if connections:
            session.execute(create, timeout=60)


def set_thresholds(settings: Settings, thresholds: str) -> None:
    """Give ``users_scored`` size-tiered compaction merging ``MIN:MAX`` sstables (or keep it)."""
    if thresholds == "schema":
        return
    low, high = (int(part) for part in thresholds.split(":"))
    with session_scope(settings) as session:
        session.execute(
            f"ALTER TABLE {settings.keyspace}.users_scored WITH compaction = "
            "{'class': 'SizeTieredCompactionStrategy', "
            f"'min_threshold': {low}, 'max_threshold': {high}}}",
            timeout=60,
        )


def cassandra_cpu_s(settings: Settings) -> float:
    """CPU seconds (user + system) the local Cassandra node has used so far."""
    pid = CassandraService(settings).pid_file.read()
    used = None if pid is None else cpu_seconds(pid)
    if used is None:
        raise SystemExit("the local Cassandra node is not running: discorecs cluster up")
    return used


def sstables(settings: Settings) -> int:
    """Data files of the keyspace's ``users_scored`` on the local node."""
    data = CassandraService(settings).home / "data" / "data" / settings.keyspace
    return len(list(data.glob("users_scored-*/*-Data.db")))


def recall_at_10(
    settings: Settings, taste: np.ndarray, queries: int, seed: int
) -> tuple[float, float]:
    """Recall@10 of the ANN query against exact cosine, and its median latency in ms.

    A returned user counts when its exact similarity reaches the exact 10th best's (minus
    1e-5), so ties among equal vectors do not count as misses.
    """
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(taste), queries, replace=False)
    unit = taste / np.linalg.norm(taste, axis=1, keepdims=True)
    hits, latencies = [], []
    with session_scope(settings) as session:
        nearest = session.prepare(USERS_SCORED.ann(settings.keyspace, "taste", ["user_id"]))
        for row in picked.tolist():
            sims = unit @ unit[row]
            tenth = np.partition(sims, -LIST_LENGTH)[-LIST_LENGTH]
            start = time.perf_counter()
            found = [
                r.user_id - 1 for r in session.execute(nearest, (taste[row].tolist(), LIST_LENGTH))
            ]
            latencies.append(time.perf_counter() - start)
            hits.append(np.mean(sims[found] >= tenth - 1e-5) if found else 0.0)
    return float(np.mean(hits)), 1000 * float(np.median(latencies))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument(
        "--settings", default="0:0,16:100,8:24,8:40", help="M:beam, comma-separated list"
    )
    parser.add_argument(
        "--thresholds", default="schema", help="MIN:MAX or schema, comma-separated list"
    )
    parser.add_argument(
        "--settle", action="store_true", help="Wait for the compactions after each write."
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    taste = tastes(args.rows, args.seed)
    rows = records(taste, args.seed)
    print(f"{len(rows)} users_scored rows with a taste vector")
    base = load_settings()
    spark = spark_session(base, "bench-vector-index")
    frame_schema = USERS_SCORED.spark_schema(USERS_SCORED.column_names)
    cases = [(s, t) for s in args.settings.split(",") for t in args.thresholds.split(",")]
    results: list[str] = []
    try:
        for round_no in range(args.rounds):
            for setting, thresholds in cases:
                connections, beam = (int(part) for part in setting.split(":"))
                settings = load_settings(keyspace=f"vec_{uuid.uuid4().hex[:8]}")
                try:
                    with session_scope(settings) as session:
                        apply_schema(session, settings.keyspace)
                    recreate_index(settings, connections, beam)
                    set_thresholds(settings, thresholds)
                    frames = [
                        spark.createDataFrame(rows[lo : lo + WRITE_PART], frame_schema).cache()
                        for lo in range(0, len(rows), WRITE_PART)
                    ]
                    for frame in frames:
                        frame.count()
                    cpu_start = cassandra_cpu_s(settings)
                    start = time.perf_counter()
                    for frame in frames:
                        write_table(frame, settings, USERS_SCORED)
                    seconds = time.perf_counter() - start
                    cost = f"Cassandra {cassandra_cpu_s(settings) - cpu_start:5.1f} CPU-s"
                    for frame in frames:
                        frame.unpersist()
                    if args.settle:
                        waited = settle(settings)
                        cost += (
                            f", settled {waited:5.1f} s later at "
                            f"{cassandra_cpu_s(settings) - cpu_start:5.1f} CPU-s, "
                            f"{sstables(settings)} sstables"
                        )
                    quality = "no index: no ANN query"
                    if connections:
                        recall, latency = recall_at_10(settings, taste, args.queries, args.seed)
                        quality = f"recall@10 {recall:.4f}  ANN query p50 {latency:5.1f} ms"
                finally:
                    with session_scope(settings) as session:
                        drop_keyspace(session, settings.keyspace)
                line = (
                    f"round {round_no + 1}  M={connections:<3} beam={beam:<4} "
                    f"compaction {thresholds:<6} write {len(rows) / seconds:7.0f} rows/s "
                    f"({seconds:5.1f} s, {cost})  {quality}"
                )
                print(line, flush=True)
                results.append(line)
    finally:
        spark.stop()
    print("\n".join(["", "summary:", *results]))


if __name__ == "__main__":
    with terminated_as_exit():  # a SIGTERM cleans up as Ctrl-C does
        main()
