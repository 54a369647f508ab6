"""``/ops/dashboard``: what the operations page draws, in one answer."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from discorecs.app.api.context import Services, Svc
from discorecs.app.api.errors import one_line
from discorecs.app.api.health import health_of
from discorecs.app.api.models import (
    BatchPoint,
    Dashboard,
    DeadLetters,
    QualityOut,
    RunOut,
    RunStepOut,
    StreamView,
)
from discorecs.app.api.quality import group_quality, run_time
from discorecs.app.status import HourlyRun
from spark_jobs.scoring.quality import SHARE_FIGURES

DEAD_LETTER_BUDGET_S = 3.0
"""Time a dashboard request spends reading new dead letters."""
RUNS_SHOWN = 12

router = APIRouter(prefix="/ops", tags=["operations"])


def batch_points(batches: list[dict[str, Any]], since_ms: int) -> list[BatchPoint]:
    """The batches written since ``since_ms``, of those the API keeps (``KEPT_BATCHES``)."""
    recent = [b for b in batches if b["written_at_ms"] >= since_ms]
    return [
        BatchPoint(
            batch_id=b["batch_id"],
            at_ms=b["written_at_ms"],
            rows_in=b["rows_in"],
            input_rate=b["input_rate"],
            seconds=b["seconds"],
            latency_p50_ms=b["latency_p50_ms"],
            latency_p99_ms=b["latency_p99_ms"],
            dead_letters=b["dead_letters"],
        )
        for b in recent
    ]


def run_out(run: HourlyRun) -> RunOut:
    """An hourly run for the dashboard, its steps by name."""
    steps = sorted(run.steps, key=lambda s: s.step)
    return RunOut(
        run_id=run.run_id,
        at=run_time(uuid.UUID(run.run_id)),
        ok=run.ok,
        seconds=round(run.seconds, 3),
        steps=[
            RunStepOut(step=s.step, status=s.status, rows=s.rows, seconds=s.seconds) for s in steps
        ],
    )


def dead_letters(services: Services, total: int) -> DeadLetters:
    """The batch log's ``total`` and the topic's counts by reason (an error says why they lack)."""
    try:
        by_reason = services.pipeline.dead_letters.refresh(DEAD_LETTER_BUDGET_S)
    except Exception as error:  # noqa: BLE001 - the rest of the dashboard still shows
        return DeadLetters(total=total, by_reason={}, error=one_line(str(error)))
    return DeadLetters(total=total, by_reason=dict(by_reason.most_common()), error=None)


@router.get("/dashboard", response_model=Dashboard)
def dashboard(
    svc: Svc,
    window_s: Annotated[int, Query(ge=60, le=7 * 24 * 3600, description="Seconds shown.")] = 3600,
) -> Dashboard:
    """Health, stream lag and batches of the window, dead letters, hourly runs, quality."""
    checks = svc.pipeline.readiness()
    stream_check = checks["stream"]
    log = svc.pipeline.batch_log()
    since_ms = int((time.time() - window_s) * 1000)
    quality_rows = svc.reads.quality_rows()
    return Dashboard(
        window_s=window_s,
        health=health_of(checks),
        stream=StreamView(
            lag=int(stream_check.value) if stream_check.value is not None else None,
            lag_error=None if stream_check.value is not None else stream_check.detail,
            batches_total=log.total,
            batches=batch_points(log.batches, since_ms),
        ),
        dead_letters=dead_letters(svc, log.dead_letters),
        runs=[run_out(run) for run in svc.reads.hourly_runs()[:RUNS_SHOWN]],
        quality=(
            None
            if quality_rows is None
            else [
                QualityOut(
                    run_id=q.run_id,
                    at=q.at,
                    metrics=q.metrics,
                    shares=[m for m in SHARE_FIGURES if m in q.metrics],
                )
                for q in group_quality(quality_rows)
            ]
        ),
    )
