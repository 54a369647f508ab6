"""``/health/live`` (the process answers) and ``/health/ready`` (Kafka, Cassandra, stream lag)."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from discorecs.app.api.context import Svc
from discorecs.app.api.models import CheckOut, Health
from discorecs.app.api.pipeline import Check

router = APIRouter(prefix="/health", tags=["health"])


def health_of(checks: dict[str, Check]) -> Health:
    """``ready`` when every check passed, with each check's detail."""
    return Health(
        status="ready" if all(c.ok for c in checks.values()) else "not ready",
        checks={name: CheckOut(ok=c.ok, detail=c.detail) for name, c in checks.items()},
    )


@router.get("/live")
async def live() -> dict[str, str]:
    """The process is up and serving.

    Async, so it answers on the event loop while every worker thread waits on Kafka or Cassandra.
    """
    return {"status": "live"}


@router.get(
    "/ready",
    response_model=Health,
    responses={503: {"model": Health, "description": "A part is not ready; see its check."}},
)
def ready(svc: Svc) -> JSONResponse:
    """Kafka metadata, a Cassandra query and the stream's lag; 503 when one fails."""
    health = health_of(svc.pipeline.readiness())
    code = status.HTTP_200_OK if health.status == "ready" else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse(health.model_dump(), status_code=code)
