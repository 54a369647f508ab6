"""The hourly scoring end-to-end through Cassandra: a full hour, then an hour with 1% changed.

    .venv/bin/python benchmarks/bench_scoring_e2e.py --users 100000
    .venv/bin/python benchmarks/bench_scoring_e2e.py --users 1000000 --releases 200000 \
        --hours 3 --read-rounds 0 --no-memory-reference

Needs the local cluster (``discorecs cluster up``). In a fresh keyspace, the synthetic world of
``bench_scoring.py`` (releases with genres and styles, users, collections) is bulk-written
through the Spark connector and every user is staged (not timed). Then
:func:`spark_jobs.scoring.hourly.run_hourly` runs as cron would: a first hour that scores
everyone, an hour after ``--changed`` of the users changed their collections (reading the
first hour's snapshot, :mod:`spark_jobs.scoring.snapshot`, and the changed users'
collections), then the run's reads timed with and without that hour's snapshot in turn, a
steady hour (the same after an incremental hour), and as the reference a fourth hour with the
snapshot off (``users_scored`` and ``user_collection`` read whole); ``--hours`` stops earlier.
Before each later hour the keyspace's background compactions are waited for (:func:`settle`;
the wait is printed). Printed beside each, from the same run: the compute part alone
(:func:`compute.score` on the same world in memory, without the rule's lists, as the hourly job
runs it), so the rest is Cassandra and Spark I/O.
The keyspace is dropped at the end.
"""

from __future__ import annotations

import argparse
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from bench_scoring import build_world, change_users, run
from cassandra.cluster import NoHostAvailable
from cassandra.concurrent import execute_concurrent_with_args

from discorecs.app.loadtest import terminated_as_exit
from discorecs.app.stats import collect_stats
from discorecs.core.cassandra import apply_schema, drop_keyspace, session_scope
from discorecs.core.genres import GENRES
from discorecs.core.settings import Settings, load_settings
from discorecs.core.tables import CHANGED_USERS, RELEASES, USER_COLLECTION, USERS
from discorecs.core.timing import StepTimer
from spark_jobs.connector import write_table
from spark_jobs.scoring.compute import UserState
from spark_jobs.scoring.hourly import HourlyResult, current_hour, read_state, run_hourly
from spark_jobs.scoring.recommend import Collections, ReleaseFeatures
from spark_jobs.scoring.snapshot import load_snapshot
from spark_jobs.session import spark_session


def write_world(
    spark, settings: Settings, collections: Collections, features: ReleaseFeatures
) -> None:
    """Bulk-write releases, profiles and collections, and stage every user for the first hour."""
    styles = features.styles
    releases = pd.DataFrame(
        {
            "release_id": np.arange(1, features.n_releases + 1),
            "title": [f"Release {r}" for r in range(1, features.n_releases + 1)],
            "genres": [
                [GENRES[g] for g in np.flatnonzero(row)] for row in features.genre_weights > 0
            ],
            "styles": [
                [f"style {s}" for s in styles.ids[styles.indptr[r] : styles.indptr[r + 1]]]
                for r in range(features.n_releases)
            ],
        }
    )
    write_table(spark.createDataFrame(releases), settings, RELEASES)
    users = np.arange(collections.n_users)
    write_table(
        spark.createDataFrame(
            pd.DataFrame({"user_id": users, "name": [f"user {u}" for u in users]})
        ),
        settings,
        USERS,
    )
    write_pairs(spark, settings, np.repeat(users, collections.sizes()), collections.indices)
    stage(spark, settings, users, datetime.now(UTC))


def write_pairs(
    spark, settings: Settings, users: np.ndarray, releases: np.ndarray, part: int = 2_000_000
) -> None:
    """Insert (user row, release row) pairs into ``user_collection`` (ids are rows + offsets).

    In parts of ``part`` pairs, so the driver's JVM never holds all of them.
    """
    added_at = pd.Timestamp.now()
    for start in range(0, len(users), part):
        pairs = pd.DataFrame(
            {
                "user_id": users[start : start + part].astype(np.int64),
                "release_id": releases[start : start + part].astype(np.int64) + 1,
                "added_at": added_at,
            }
        )
        write_table(spark.createDataFrame(pairs), settings, USER_COLLECTION)


def stage(spark, settings: Settings, users: np.ndarray, at: datetime) -> None:
    """Stage users as changed in the hour bucket of ``at``, as the stream does."""
    bucket = pd.Timestamp(current_hour(at).replace(tzinfo=None))
    frame = pd.DataFrame({"bucket": bucket, "user_id": users.astype(np.int64)})
    write_table(spark.createDataFrame(frame), settings, CHANGED_USERS)


def apply_changes(
    spark, settings: Settings, before: Collections, after: Collections, changed: np.ndarray
) -> None:
    """Write the collection changes of ``changed`` users (deletes, then adds) and stage them."""
    with session_scope(settings) as session:
        delete = session.prepare(
            f"DELETE FROM {settings.keyspace}.user_collection WHERE user_id = ? AND release_id = ?"
        )
        removed, added = [], ([], [])
        for user in changed.tolist():
            old = set(before.indices[before.indptr[user] : before.indptr[user + 1]].tolist())
            new = set(after.indices[after.indptr[user] : after.indptr[user + 1]].tolist())
            removed += [(user, r + 1) for r in old - new]
            added[0].extend([user] * len(new - old))
            added[1].extend(new - old)
        execute_concurrent_with_args(session, delete, removed, concurrency=64)
    write_pairs(spark, settings, np.array(added[0]), np.array(added[1]))
    print(f"  changes written: {len(removed):,} removed, {len(added[0]):,} added pairs")


def report(title: str, result: HourlyResult, wall: float, compute: dict[str, float]) -> None:
    print(f"\n== {title}: {wall:.1f} s end-to-end (recall@1 {result.recall:.4f})")
    for name, seconds in result.seconds.items():
        alone = f"   in memory alone: {compute[name]:6.2f} s" if name in compute else ""
        print(f"  {name:<28} {seconds:8.2f} s{alone}")
    if compute:
        print(f"  compute part alone, same world in memory: {sum(compute.values()):.1f} s")
    print(f"  counts: {result.counts}")


def compare_reads(spark, settings: Settings, now: datetime, rounds: int) -> None:
    """Time the run's reads with the last run's snapshot and without it, alternately."""
    snapshot = load_snapshot(settings.snapshot_path)
    assert snapshot is not None, "the previous hour saved a snapshot"
    timings: dict[str, list[dict[str, float]]] = {"snapshot": [], "full read": []}
    for _ in range(rounds):
        for name, earlier in (("snapshot", snapshot), ("full read", None)):
            step = StepTimer()
            read_state(spark, settings, now, earlier, step)
            timings[name].append(step.seconds)
    print(f"\n== the run's reads, same process, {rounds} rounds alternating (median s)")
    for name, runs in timings.items():
        steps = {key: float(np.median([run[key] for run in runs])) for key in runs[0]}
        total = float(np.median([sum(run.values()) for run in runs]))
        parts = ", ".join(f"{key} {seconds:.2f}" for key, seconds in steps.items())
        print(f"  {name:<10} {total:6.2f} s  ({parts})")


def settle(settings: Settings, limit_s: float = 900.0) -> float:
    """Wait for the keyspace's flushes and compactions to end, as an hour between runs would.

    A run that writes every user's vector leaves minutes of compaction behind it (each merge
    rebuilds the SAI vector graph), which an hourly schedule absorbs; the waited time is
    printed, not timed into the next run.

    Returns:
        The seconds waited.

    """
    start = time.perf_counter()
    with session_scope(settings) as session:
        tasks = session.prepare(
            "SELECT kind, table_name FROM system_views.sstable_tasks WHERE keyspace_name = ? "
            "ALLOW FILTERING"
        )
        while time.perf_counter() - start < limit_s:
            running = list(session.execute(tasks, (settings.keyspace,)))
            if not running:
                break
            time.sleep(2.0)
    waited = time.perf_counter() - start
    print(f"  background flushes and compactions settled in {waited:.0f} s")
    return waited


@dataclass(frozen=True)
class Hour:
    """What the tables hold after an hour, in memory: collections, release features, scores.

    ``state`` is None when the in-memory reference is off (``--no-memory-reference``).
    """

    collections: Collections
    features: ReleaseFeatures
    state: UserState | None
    at: datetime


def changed_hour(
    spark,
    settings: Settings,
    rng: np.random.Generator,
    before: Hour,
    share: float,
    title: str,
    hourly_settings: Settings | None = None,
) -> Hour:
    """Change a share of the users' collections, stage them, and time and report the next hour.

    Args:
        spark: Session.
        settings: The bench's keyspace.
        rng: The world's generator.
        before: The hour before.
        share: Share of the users whose collections change.
        title: The report's title (the number of changed users is added).
        hourly_settings: Settings of the run (default ``settings``).

    Returns:
        The hour after, in memory.

    """
    after, features, changed = change_users(rng, before.collections, before.features, share)
    at = before.at + timedelta(hours=1)
    apply_changes(spark, settings, before.collections, after, changed)
    stage(spark, settings, changed, at)
    settle(settings)
    start = time.perf_counter()
    result = run_hourly(hourly_settings or settings, spark=spark, now=at)
    wall = time.perf_counter() - start
    state, compute = None, {}
    if before.state is not None:
        scores, compute = run(after, features, before.state, changed, 1000, lists=False)
        state = scores.next_state(before.state)
    report(f"{title}, {len(changed):,} users changed", result, wall, compute)
    return Hour(after, features, state, at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--releases", type=int, default=50_000)
    parser.add_argument("--mean-collection", type=int, default=20)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--read-rounds", type=int, default=3, help="Rounds of compare_reads.")
    parser.add_argument(
        "--hours",
        type=int,
        choices=range(1, 5),
        default=4,
        help="Hours run: the first, then the next, the steady and the snapshot-off reference.",
    )
    parser.add_argument(
        "--no-memory-reference",
        action="store_true",
        help="Skip the compute part alone in memory (minutes at 1M users).",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the keyspace afterwards.")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    # Users are staged just before each run here, not during the hour: no staging margin.
    settings = load_settings(keyspace=f"bench_scoring_{uuid.uuid4().hex[:8]}").with_updates(
        scoring={"staging_margin_s": 0.0}
    )
    try:
        with session_scope(settings) as session:
            apply_schema(session, settings.keyspace)
    except NoHostAvailable:
        raise SystemExit("Cassandra is not reachable: `discorecs cluster up`") from None
    spark = spark_session(settings, "bench-scoring-e2e")
    try:
        collections, features = build_world(rng, args.users, args.releases, args.mean_collection)
        start = time.perf_counter()
        write_world(spark, settings, collections, features)
        print(
            f"world: {args.users:,} users, {args.releases:,} releases, "
            f"{len(collections.indices):,} owned pairs written to {settings.keyspace} in "
            f"{time.perf_counter() - start:.1f} s (not timed below)"
        )
        now = datetime.now(UTC)
        start = time.perf_counter()
        first = run_hourly(settings, spark=spark, now=now)
        wall = time.perf_counter() - start
        unscored = UserState.unscored(args.users)
        state, compute = None, {}
        if not args.no_memory_reference:
            full, compute = run(collections, features, unscored, np.arange(0), 1000, lists=False)
            state = full.next_state(unscored)
        report(f"first hour, {args.users:,} users scored", first, wall, compute)

        hour = Hour(collections, features, state, now)
        later = [
            ("next hour", settings),
            ("steady hour (after an incremental hour)", settings),
            (
                "reference, same run: the next hour again, no snapshot (full read)",
                settings.with_updates(scoring={"snapshot_hours": 0.0}),
            ),
        ]
        for number, (title, hourly_settings) in enumerate(later[: args.hours - 1]):
            if number == 1 and args.read_rounds:
                compare_reads(spark, settings, hour.at, args.read_rounds)
            hour = changed_hour(spark, settings, rng, hour, args.changed, title, hourly_settings)

        with session_scope(settings) as session:
            stats = collect_stats(session, settings.keyspace)
        print(
            f"\nusers_scored: {stats.scored_users:,} of {stats.users:,} users; "
            f"recommendations already owned: {stats.owned_share:.4f} (must be 0); "
            f"item coverage {stats.item_coverage:.3f}"
        )
    finally:
        spark.stop()
        if not args.keep:
            with session_scope(settings) as session:
                drop_keyspace(session, settings.keyspace)
            shutil.rmtree(settings.snapshot_path, ignore_errors=True)


if __name__ == "__main__":
    with terminated_as_exit():  # a SIGTERM cleans up as Ctrl-C does
        main()
