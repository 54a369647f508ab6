"""The hybrid's learnt ranking model, kept in ``ranking_models`` between hourly runs.

Learning the model (fresh sources fitted on a validation split, then LightGBM) is about half of
the hybrid's fit, and what it learns (how to weigh the sources' scores and ranks) changes
slowly, so the hourly job reuses the newest model for ``scoring.hybrid_model_hours``. The model
is index-free (its inputs are per-candidate features), so new users and releases do not void it;
the hybrid still checks that its features are the ones the sources give
(:attr:`~.rankers.hybrid.Hybrid.reused`).
"""

from __future__ import annotations

from datetime import datetime

import lightgbm as lgb
from cassandra.cluster import Session

from discorecs.core.tables import HOURLY_PIPELINE, RANKING_MODELS


def read_ranking_model(session: Session, keyspace: str, since: datetime) -> lgb.Booster | None:
    """The newest model learnt at or after ``since`` (naive UTC), or None.

    Args:
        session: Cassandra session.
        keyspace: Keyspace holding ``ranking_models``.
        since: The oldest learning time to accept.

    """
    select = RANKING_MODELS.select(keyspace, ["trained_at", "model"], where=["pipeline"], limit=1)
    row = session.execute(session.prepare(select), (HOURLY_PIPELINE,)).one()
    if row is None or row.trained_at < since:
        return None
    return lgb.Booster(model_str=row.model)


def write_ranking_model(
    session: Session, keyspace: str, model: lgb.Booster, trained_at: datetime
) -> None:
    """Store a newly learnt model (LightGBM's text format) as the newest."""
    insert = session.prepare(RANKING_MODELS.insert(keyspace))
    session.execute(insert, (HOURLY_PIPELINE, trained_at, model.model_to_string()))
