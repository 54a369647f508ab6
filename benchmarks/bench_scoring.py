"""Benchmark of the hourly scoring compute: full run at N users, an incremental hour, ANN recall.

    .venv/bin/python benchmarks/bench_scoring.py --users 1000000

It runs :func:`spark_jobs.scoring.compute.score`, the code the hourly Spark job runs, with an
in-memory collection loader instead of Cassandra reads. Synthetic world: releases with 1-3
genres and 0-3 of 300 styles, Zipf-like popularity; users with a sparse Dirichlet taste over the
15 genres drawing ~20 releases each (some users draw from a tiny pool, giving many identical
taste vectors, and 1% have an empty collection). The taste vectors are kept in memory and
written to Parquet as the batch would hand them over. References printed alongside: the
issue's targets (full < 300 s, incremental < 90 s, recall@1 >= 0.99) and, in the same run,
exact search (IndexFlatIP) on the recall sample, and the incremental hour once more with the
taste index built anew instead of extending the full run's (as the hourly job does).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from discorecs.core.settings import ScoringSettings
from discorecs.core.timing import StepTimer
from spark_jobs.scoring.compute import Scores, UserState, score
from spark_jobs.scoring.friends import VectorIndex
from spark_jobs.scoring.recommend import Collections, ReleaseFeatures, Styles

N_STYLES = 300


def make_releases(rng: np.random.Generator, n_releases: int) -> np.ndarray:
    weights = np.zeros((n_releases, 15), dtype=np.float32)
    k = rng.choice([1, 2, 3], size=n_releases, p=[0.5, 0.35, 0.15])
    for i in range(n_releases):
        weights[i, rng.choice(15, k[i], replace=False)] = 1.0 / k[i]
    return weights


def make_styles(rng: np.random.Generator, n_releases: int) -> Styles:
    counts = rng.choice([0, 1, 2, 3], size=n_releases, p=[0.2, 0.4, 0.3, 0.1])
    indptr = np.zeros(n_releases + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    ids = rng.integers(0, N_STYLES, indptr[-1])
    weights = (1.0 / np.repeat(counts, counts)).astype(np.float32)
    return Styles(indptr, ids, weights, N_STYLES)


def draw_collections(
    rng: np.random.Generator, users: np.ndarray, release_weights: np.ndarray, mean_size: int
) -> tuple[np.ndarray, np.ndarray]:
    by_genre = [np.flatnonzero(release_weights[:, g] > 0) for g in range(15)]
    taste = rng.dirichlet(np.full(15, 0.2), size=len(users))
    sizes = rng.poisson(mean_size, size=len(users))
    sizes[rng.random(len(users)) < 0.01] = 0
    owner = np.repeat(np.arange(len(users)), sizes)
    cum = np.cumsum(taste, axis=1)
    genre = (rng.random(len(owner))[:, None] > cum[owner]).sum(axis=1).clip(0, 14)
    releases = np.empty(len(owner), dtype=np.int64)
    tiny = rng.random(len(users)) < 0.05
    for g in range(15):
        at = np.flatnonzero(genre == g)
        pool = by_genre[g]
        zipf = np.floor(len(pool) * rng.random(len(at)) ** 3).astype(np.int64)
        zipf[tiny[owner[at]]] %= 3
        releases[at] = pool[np.minimum(zipf, len(pool) - 1)]
    return users[owner], releases


def build_world(
    rng: np.random.Generator, n_users: int, n_releases: int, mean_size: int
) -> tuple[Collections, ReleaseFeatures]:
    weights = make_releases(rng, n_releases)
    users, releases = draw_collections(rng, np.arange(n_users), weights, mean_size)
    collections = Collections.from_pairs(users, releases, n_users, n_releases)
    trending = rng.poisson(0.2, size=n_releases) * (rng.random(n_releases) < 0.05)
    styles = make_styles(rng, n_releases)
    return collections, ReleaseFeatures(weights, styles, collections.popularity(), trending)


def change_users(
    rng: np.random.Generator, c: Collections, features: ReleaseFeatures, share: float
) -> tuple[Collections, ReleaseFeatures, np.ndarray]:
    changed = np.sort(rng.choice(c.n_users, int(c.n_users * share), replace=False))
    users = np.repeat(np.arange(c.n_users), c.sizes())
    keep = ~np.isin(users, changed) | (rng.random(len(users)) > 0.2)
    new_users, new_releases = draw_collections(rng, changed, features.genre_weights, 3)
    collections = Collections.from_pairs(
        np.concatenate([users[keep], new_users]),
        np.concatenate([c.indices[keep], new_releases]),
        c.n_users,
        c.n_releases,
    )
    owners = collections.popularity()
    features = ReleaseFeatures(features.genre_weights, features.styles, owners, features.trending)
    return collections, features, changed


def run(
    collections: Collections,
    features: ReleaseFeatures,
    state: UserState,
    changed: np.ndarray,
    sample: int,
    earlier_index: VectorIndex | None = None,
    lists: bool = True,
) -> tuple[Scores, dict[str, float]]:
    step = StepTimer()

    def load(rows: np.ndarray) -> Collections:
        return collections

    tuning = ScoringSettings(recall_sample=sample)
    scores = score(
        features,
        state,
        changed,
        load,
        tuning=tuning,
        step=step,
        earlier_index=earlier_index,
        lists=lists,
    )
    return scores, step.seconds


def report(title: str, timings: dict[str, float], counts: dict[str, int], target: float) -> float:
    total = sum(timings.values())
    print(f"\n== {title}")
    for step, seconds in timings.items():
        print(f"  {step:<26} {seconds:8.2f} s")
    verdict = "OK" if total < target else "MISSED"
    print(f"  {'total':<26} {total:8.2f} s   (target < {target:.0f} s: {verdict})")
    print(f"  counts: {counts}")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--releases", type=int, default=200_000)
    parser.add_argument("--mean-collection", type=int, default=20)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    start = time.perf_counter()
    collections, features = build_world(rng, args.users, args.releases, args.mean_collection)
    print(
        f"world: {args.users:,} users, {args.releases:,} releases, "
        f"{len(collections.indices):,} owned pairs "
        f"(built in {time.perf_counter() - start:.1f} s, not timed below)"
    )

    unscored = UserState.unscored(args.users)
    full, timings = run(collections, features, unscored, np.arange(0), args.sample)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        path = Path(tmp) / "taste.parquet"
        table = pa.table({f"g{i}": full.taste[:, i] for i in range(15)})
        pq.write_table(table, path)
        full.taste = np.column_stack([c.to_numpy() for c in pq.read_table(path).columns])
        timings["taste_parquet_io"] = time.perf_counter() - t
    unique_vectors = len(np.unique(full.taste, axis=0))
    report(f"full scoring, {args.users:,} users", timings, full.counts, 300)
    print(f"  distinct taste vectors: {unique_vectors:,}")
    print(
        f"  ANN recall@1 = {full.recall:.4f} on {full.recall_sample} sampled users vs exact "
        f"IndexFlatIP in the same run (ties at equal similarity count as correct; "
        f"target >= 0.99: {'OK' if full.recall >= 0.99 else 'MISSED'})"
    )

    collections2, features2, changed = change_users(rng, collections, features, args.changed)
    state = full.next_state(unscored)
    rebuilt, timings = run(collections2, features2, state, changed, args.sample)
    report("reference: the same hour with the index built anew", timings, rebuilt.counts, 90)
    print(f"  ANN recall@1 = {rebuilt.recall:.4f} on {rebuilt.recall_sample} sampled users")
    inc, timings = run(collections2, features2, state, changed, args.sample, full.index.vectors)
    report(f"incremental hour, {len(changed):,} changed users", timings, inc.counts, 90)
    print(f"  ANN recall@1 = {inc.recall:.4f} on {inc.recall_sample} sampled users vs exact")

    recs = inc.recommendations.releases
    users = np.repeat(inc.rescored, recs.shape[1])
    flat = recs.reshape(-1)
    has = flat >= 0
    owned = collections2.owns(users[has], flat[has])
    print(f"\nowned releases recommended: {int(owned.sum())} (must be 0)")
    recommended = full.recommendations.releases
    coverage = len(np.unique(recommended[recommended >= 0])) / args.releases
    print(f"item coverage (full run): {coverage:.3f}")


if __name__ == "__main__":
    main()
