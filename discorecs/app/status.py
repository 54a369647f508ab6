"""What ``discorecs status`` reports: cluster health, stream progress, the last hourly run."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from deployment import cluster
from discorecs.app.api.quality import QualityRun, group_quality
from discorecs.core.cassandra import session_scope
from discorecs.core.settings import Settings
from discorecs.core.tables import BATCH_RUNS, HOURLY_PIPELINE, QUALITY_RUNS
from spark_jobs.stream.progress import (
    MetricsLog,
    checkpoint_dir,
    committed_offsets,
    end_offsets,
    lag,
    metrics_path,
)

RECENT_STEPS = 400
"""Steps read for the recent hourly runs: a dozen runs of about 25 steps, with room."""
NESTED_STEP = "."
"""A step named ``parent.part`` is timed inside step ``parent``, so no run total adds it."""


@dataclass(frozen=True)
class RunStep:
    """One recorded step of an hourly run."""

    run_id: str
    step: str
    status: str
    rows: int
    seconds: float


@dataclass
class StreamProgress:
    """The stream's lag, committed records and its last micro-batch (``None`` before any)."""

    lag: int
    committed: int
    last_batch: dict[str, Any] | None
    dead_letters: int

    @property
    def last_batch_age_s(self) -> float | None:
        """Seconds since the last micro-batch was written."""
        if self.last_batch is None:
            return None
        return time.time() - self.last_batch["written_at_ms"] / 1000


@dataclass
class HourlyRun:
    """The steps of one hourly run, newest run first in :func:`recent_runs`."""

    run_id: str
    steps: list[RunStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every recorded step succeeded."""
        return all(s.status == "ok" for s in self.steps)

    @property
    def seconds(self) -> float:
        """The run's time: its steps' seconds, those nested in another step left out."""
        return sum(s.seconds for s in self.steps if NESTED_STEP not in s.step)


def stream_progress(settings: Settings) -> StreamProgress:
    """Committed offsets from the checkpoint against the broker's ends, and the batch log."""
    committed = committed_offsets(checkpoint_dir(settings))
    log = MetricsLog(metrics_path(settings), keep=1)  # the last batch and the totals
    batches = log.read()
    return StreamProgress(
        lag=lag(committed, end_offsets(settings)),
        committed=sum(committed.values()),
        last_batch=batches[-1] if batches else None,
        dead_letters=log.dead_letters,
    )


def runs_query(keyspace: str, limit: int = RECENT_STEPS) -> str:
    """CQL of the last ``limit`` recorded steps of a pipeline (bind the pipeline name)."""
    return BATCH_RUNS.select(
        keyspace, ["run_id", "step", "status", "rows", "seconds"], where=["pipeline"], limit=limit
    )


def recent_runs(settings: Settings, limit: int = RECENT_STEPS) -> list[HourlyRun]:
    """The hourly runs among the last ``limit`` recorded steps, newest first."""
    with session_scope(settings) as session:
        query = session.prepare(runs_query(settings.keyspace, limit))
        return group_runs(session.execute(query, (HOURLY_PIPELINE,)), limit)


def group_runs(rows: Iterable[Any], limit: int = RECENT_STEPS) -> list[HourlyRun]:
    """Rows of :func:`runs_query` (newest run first) grouped into runs, newest first.

    When ``limit`` rows came back, the oldest run may have been cut by the limit, and is left
    out rather than shown with part of its steps.
    """
    runs: dict[str, HourlyRun] = {}
    read = 0
    for row in rows:
        read += 1
        run_id = str(row.run_id)
        runs.setdefault(run_id, HourlyRun(run_id)).steps.append(
            RunStep(run_id, row.step, row.status, row.rows or 0, row.seconds or 0.0)
        )
    found = list(runs.values())
    return found[:-1] if read >= limit else found


def recent_quality(settings: Settings, max_runs: int = 5) -> list[QualityRun]:
    """The online-check figures of the last hourly runs (``quality_runs``), oldest first."""
    query = QUALITY_RUNS.select(
        settings.keyspace, ["run_id", "metric", "value"], where=["pipeline"], limit=50
    )
    with session_scope(settings) as session:
        rows = session.execute(session.prepare(query), (HOURLY_PIPELINE,))
        return group_quality(rows, max_runs)


def cluster_healthy(settings: Settings) -> tuple[bool, list[cluster.ServiceStatus]]:
    """Every service's status, and whether all of them are healthy."""
    statuses = cluster.status(settings)
    return all(s.healthy for s in statuses), statuses
