"""Statistics over ``users_scored``: the original project's figures plus coverage and Gini."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent_with_args

from discorecs.core.tables import RELEASES, USER_COLLECTION, USERS, USERS_SCORED
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
    rows = list(session.execute(session.prepare(scored), timeout=300))
    users = session.execute(session.prepare(USERS.count(keyspace)), timeout=300).one()[0]
    releases = session.execute(session.prepare(RELEASES.count(keyspace)), timeout=300).one()[0]
    owned_query = session.prepare(
        USER_COLLECTION.select(keyspace, ["release_id"], where=["user_id"])
    )
    sizes = np.array([r.collection_size or 0 for r in rows])
    friends = [r.friend_id for r in rows if r.friend_id is not None]
    picks = [r.release_id for r in rows if r.release_id is not None]
    recommended: Counter[int] = Counter()
    owned_recs = total_recs = 0
    listed = [row for row in rows if row.recommendations]
    collections = execute_concurrent_with_args(
        session, owned_query, [(row.user_id,) for row in listed], concurrency=64
    )
    for row, (_, owned_rows) in zip(listed, collections, strict=True):
        recs = [rec.release_id for rec in row.recommendations]
        recommended.update(recs)
        owned = {r.release_id for r in owned_rows}
        owned_recs += sum(r in owned for r in recs) + (row.release_id in owned)
        total_recs += len(recs) + (row.release_id is not None)
    return Stats(
        users=int(users),
        scored_users=len(rows),
        mean_collection=float(sizes.mean()) if len(sizes) else 0.0,
        median_collection=float(np.median(sizes)) if len(sizes) else 0.0,
        empty_collections=int((sizes == 0).sum()),
        unique_friends_share=len(set(friends)) / len(friends) if friends else 0.0,
        unique_releases_share=len(set(picks)) / len(picks) if picks else 0.0,
        item_coverage=len(recommended) / releases if releases else 0.0,
        gini_recommended=gini(np.array(list(recommended.values()))),
        owned_share=owned_recs / total_recs if total_recs else 0.0,
    )
