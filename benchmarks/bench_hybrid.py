"""What the hourly job's hybrid lists cost a user, source by source, in memory.

    .venv/bin/python benchmarks/bench_hybrid.py --users 100000 --releases 50000

The world of ``bench_scoring.py`` (users drawing ~20 releases from a Zipf-like popularity over
their genres; releases with genres and styles) with one artist and one label per release and a
release year, fitted once by :func:`~spark_jobs.scoring.rankers.production.production_hybrid`
as the hourly job fits it. Then, for ``--sample`` random users: each source's top-``depth``
lists, the hybrid's own steps after them (candidate table, the compiled model's predict on one
and on two threads beside LightGBM's own, the top candidates, the calibrated re-rank), the
hybrid's top-10 (all of it in one call, then in parts on two threads as the hourly job lists
them), and, as the references from the same run, content's lists from every item of the users'
features (no prefixes) and with every item scored, both checked equal to the lists served.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import numpy as np
import scipy.sparse as sp
from bench_scoring import build_world

from discorecs.core.catalog import ReleaseCatalog
from discorecs.core.genres import GENRES
from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.rankers.base import ItemContent, TrainData, recommend_in_parts
from spark_jobs.scoring.rankers.content import ContentBased, PairParts
from spark_jobs.scoring.rankers.hybrid import Hybrid
from spark_jobs.scoring.rankers.learned import Lists, candidate_table, top_candidates
from spark_jobs.scoring.rankers.production import production_hybrid

T = TypeVar("T")


def train_data(
    rng: np.random.Generator, n_users: int, n_releases: int, mean_size: int
) -> TrainData:
    """The benchmark world as the hybrid's training data (adds spread over ~4 months)."""
    collections, features = build_world(rng, n_users, n_releases, mean_size)
    styles = features.styles
    catalog = ReleaseCatalog.from_records(
        (
            r + 1,
            [GENRES[g] for g in np.flatnonzero(features.genre_weights[r] > 0)],
            [f"style {s}" for s in styles.ids[styles.indptr[r] : styles.indptr[r + 1]]],
            [f"artist {rng.integers(n_releases // 5)}"],
            [f"label {rng.integers(n_releases // 50)}"],
            int(rng.integers(1950, 2026)),
        )
        for r in range(n_releases)
    )
    owned = sp.csr_matrix(
        (np.ones(len(collections.indices), np.float32), collections.indices, collections.indptr),
        shape=(n_users, n_releases),
    )
    added_at = owned.astype(np.float64)
    added_at.data = 1.7e9 + rng.random(owned.nnz) * 1e7
    return TrainData(owned, added_at, float(added_at.data.max()), ItemContent.from_catalog(catalog))


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """``call()`` and the seconds it took."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def content_references(
    content: ContentBased,
    users: np.ndarray,
    depth: int,
    served: tuple[np.ndarray, np.ndarray],
    per_user: float,
) -> str:
    """Content's ms a user with whole features and with every item, and whether lists match."""
    prefix_depth, content.prefix_depth = content.prefix_depth, content.largest_feature
    whole, whole_seconds = timed(lambda: content.recommend(users, depth))
    content.prefix_depth = prefix_depth
    every, every_seconds = timed(
        lambda: content.every_item_top_n(users, content.rows(users, None), depth)
    )
    return (
        f"   whole features: {whole_seconds * per_user:6.2f} ({agreement(served, whole)})"
        f"   every item: {every_seconds * per_user:6.2f} ({agreement(served, every)})"
    )


def agreement(served: tuple[np.ndarray, np.ndarray], other: tuple[np.ndarray, np.ndarray]) -> str:
    """Whether two lists of the same users agree.

    Items that differ where the scores are the same at every position are tied items listed in
    another order (their scores summed in another order).
    """
    differing = int((served[0] != other[0]).any(axis=1).sum())
    if not np.allclose(served[1], other[1], rtol=1e-5, equal_nan=True):
        return f"LISTS DIFFER for {differing} users"
    if differing:
        return f"the same lists but {differing} with tied items swapped"
    return "the same lists"


def hybrid_steps(
    hybrid: Hybrid, users: np.ndarray, lists: Lists, parts: PairParts | None, per_user: float
) -> list[str]:
    """Lines of ms a user for the hybrid's steps after the sources' ``lists`` and content's
    ``parts`` (``ranked``'s)."""
    rows = hybrid.rows(users, None)
    table, seconds = timed(lambda: candidate_table(lists, rows, hybrid.train, parts))
    candidates = len(table.items) / len(users)
    lines = [f"  {'candidate table':<16} {seconds * per_user:6.2f}   ({candidates:.0f} a user)"]
    model, compiled = hybrid.model, hybrid.predictor
    if model is not None and compiled is not None:
        for threads in (1, 2):
            _, seconds = timed(partial(model.predict, table.features, num_threads=threads))
            _, fast = timed(partial(compiled.predict, table.features, threads))
            lines.append(
                f"  {f'predict, {threads} thr':<16} {fast * per_user:6.2f}   (compiled; LightGBM's "
                f"{seconds * per_user:.2f}, {model.num_trees()} trees)"
            )
    scores = hybrid.scores(table)
    ranked, seconds = timed(lambda: top_candidates(table, scores, len(users), hybrid.rerank_depth))
    lines.append(f"  {'top candidates':<16} {seconds * per_user:6.2f}")
    _, seconds = timed(lambda: hybrid.rerank(ranked, rows, 10, hybrid.calibration))
    lines.append(f"  {'calibrated top-10':<16} {seconds * per_user:6.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--releases", type=int, default=50_000)
    parser.add_argument("--mean-collection", type=int, default=20)
    parser.add_argument("--sample", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    train = train_data(rng, args.users, args.releases, args.mean_collection)
    hybrid = production_hybrid(ScoringSettings())
    _, seconds = timed(lambda: hybrid.fit(train))
    print(
        f"world: {args.users:,} users, {args.releases:,} releases; hybrid fitted in {seconds:.1f} s"
    )
    users = np.sort(rng.choice(args.users, args.sample, replace=False))
    per_user = 1e3 / len(users)
    print(f"\n{len(users)} users, ms a user:")
    lists, parts = {}, None
    for source in hybrid.sources:
        if isinstance(source, ContentBased):
            ((ids, values), parts), seconds = timed(
                lambda s=source: s.recommend_with_parts(users, hybrid.depth)
            )
        else:
            (ids, values), seconds = timed(lambda s=source: s.recommend(users, hybrid.depth))
        lists[source.name] = ids, values
        line = f"  {source.name:<16} {seconds * per_user:6.2f}"
        if isinstance(source, ContentBased):
            line += content_references(source, users, hybrid.depth, (ids, values), per_user)
        print(line)
    print("\n".join(hybrid_steps(hybrid, users, lists, parts, per_user)))
    (ids, _), seconds = timed(lambda: hybrid.recommend(users, 10))
    print(f"  {'hybrid top-10':<16} {seconds * per_user:6.2f}   (all sources, model, calibration)")
    (threaded, _), seconds = timed(lambda: recommend_in_parts(hybrid, users, 10, 2))
    same = "the same lists" if np.array_equal(ids, threaded) else "LISTS DIFFER"
    print(f"  {'  on 2 threads':<16} {seconds * per_user:6.2f}   (as the hourly job lists; {same})")


if __name__ == "__main__":
    main()
