"""Recommendation quality over time, from the hourly runs' ``quality_runs`` rows.

Rows are ``(run_id, metric, value)``; a ``timeuuid`` run id gives the run's time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cassandra.util import datetime_from_uuid1

MAX_RUNS = 50


@dataclass
class QualityRun:
    """The figures of one evaluation run."""

    run_id: str
    at: datetime | None
    metrics: dict[str, float] = field(default_factory=dict)


def run_time(run_id: Any) -> datetime | None:
    """When a time-based (version 1) uuid was made; ``None`` for any other id."""
    if isinstance(run_id, uuid.UUID) and run_id.version == 1:
        return datetime_from_uuid1(run_id).replace(tzinfo=UTC)
    return None


def group_quality(rows: Iterable[Any], max_runs: int = MAX_RUNS) -> list[QualityRun]:
    """Rows grouped per run, the last ``max_runs`` runs oldest first (by time, then id)."""
    runs: dict[str, QualityRun] = {}
    for row in rows:
        if row.value is None:
            continue
        key = str(row.run_id)
        run = runs.setdefault(key, QualityRun(key, run_time(row.run_id)))
        run.metrics[str(row.metric)] = float(row.value)
    oldest = datetime.min.replace(tzinfo=UTC)
    ordered = sorted(runs.values(), key=lambda run: (run.at or oldest, run.run_id))
    return ordered[-max_runs:]
