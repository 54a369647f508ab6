"""Statistics over ``users_scored``: the original project's figures plus coverage and Gini."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent_with_args

from discorecs.core.tables import RELEASES, USER_COLLECTION, USERS, USERS_SCORED, Table
from spark_jobs.scoring.rankers.metrics import gini


@dataclass(frozen=True)
class Stats:
    """Summary of the scored users and what they were recommended."""

    users: int
    scored_users: int
    mean_collection: float
    median_collection: float
    empty_collections: int
    unique_friends_share: float
    unique_releases_share: float
    item_coverage: float
    gini_recommended: float
    owned_share: float


def count_partitions(session: Session, table: Table, keyspace: str) -> int:
    """Count a table's partitions by paging through their keys.

    A ``COUNT(*)`` is one read the coordinator must finish within its range timeout, which a
    million users' rows exceed; a read of the keys is many short reads, one a page (the
    driver's ``default_fetch_size``, 5 000 rows).

    Args:
        session: Driver session.
        table: The table to count (one row a partition for ``users`` and ``releases``).
        keyspace: Keyspace to read.

    Returns:
        The number of partitions.

    """
    statement = session.prepare(table.select(keyspace, table.partition_key))
    return sum(1 for _ in session.execute(statement, timeout=60))


def collect_stats(session: Session, keyspace: str) -> Stats:
    """Scan ``users_scored``, ``users``, ``releases`` and check recs against collections.

    Args:
        session: Driver session.
        keyspace: Keyspace to read.

    Returns:
        The statistics.

    """
    scored = USERS_SCORED.select(
        keyspace, ["user_id", "friend_id", "release_id", "recommendations", "collection_size"]
    )
    users = count_partitions(session, USERS, keyspace)
    releases = count_partitions(session, RELEASES, keyspace)
    owned_query = session.prepare(
        USER_COLLECTION.select(keyspace, ["release_id"], where=["user_id"])
    )
    sizes: list[int] = []
    friends: list[int] = []
    picks: list[int] = []
    listed: list[tuple[int, list[int], int | None]] = []  # user, list, pick: not whole rows
    for row in session.execute(session.prepare(scored), timeout=300):  # paged, not listed
        sizes.append(row.collection_size or 0)
        if row.friend_id is not None:
            friends.append(row.friend_id)
        if row.release_id is not None:
            picks.append(row.release_id)
        if row.recommendations:
            recs = [rec.release_id for rec in row.recommendations]
            listed.append((row.user_id, recs, row.release_id))
    recommended: Counter[int] = Counter()
    owned_recs = total_recs = 0
    collections = execute_concurrent_with_args(  # in order, one user's rows at a time
        session,
        owned_query,
        ((user,) for user, _, _ in listed),
        concurrency=64,
        results_generator=True,
    )
    for (_, recs, pick), (_, owned_rows) in zip(listed, collections, strict=True):
        recommended.update(recs)
        owned = {r.release_id for r in owned_rows}
        owned_recs += sum(r in owned for r in recs) + (pick in owned)
        total_recs += len(recs) + (pick is not None)
    sized = np.array(sizes)
    return Stats(
        users=int(users),
        scored_users=len(sized),
        mean_collection=float(sized.mean()) if len(sized) else 0.0,
        median_collection=float(np.median(sized)) if len(sized) else 0.0,
        empty_collections=int((sized == 0).sum()),
        unique_friends_share=len(set(friends)) / len(friends) if friends else 0.0,
        unique_releases_share=len(set(picks)) / len(picks) if picks else 0.0,
        item_coverage=len(recommended) / releases if releases else 0.0,
        gini_recommended=gini(np.array(list(recommended.values()))),
        owned_share=owned_recs / total_recs if total_recs else 0.0,
    )
