"""The FastAPI application: routes, API key, error answers, metrics, web app, one session.

The Cassandra session, its prepared statements and the Kafka producer are opened when the app
starts (FastAPI lifespan) and closed when it stops; every request shares them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from prometheus_client import CollectorRegistry

from discorecs.app.api import health, ingest, metrics, ops, releases, users, web
from discorecs.app.api.context import Services
from discorecs.app.api.errors import install_error_handlers
from discorecs.app.api.security import require_key
from discorecs.core.logs import get_logger
from discorecs.core.settings import Settings

log = get_logger("api")

DESCRIPTION = """Users, recommendations (stored by the hourly run or recomputed now), friends,
look-alike users, releases, trending, events in (validated, produced to Kafka, applied by the
stream), health and Prometheus metrics. With `DISCORECS_API_KEY` set, every route but
`/health/*` and the page shell (`/`, `/ui/*`, `/static/*`, `/docs`) needs the `X-API-Key` header."""


def create_app(settings: Settings) -> FastAPI:
    """Build the app for these settings (connections open when it starts).

    Args:
        settings: Cassandra, Kafka, keyspace, topics and the ``api`` group.

    Returns:
        The ASGI application (run it with uvicorn, or FastAPI's ``TestClient``).

    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = Services.open(settings)
        log.info("api_started", keyspace=settings.keyspace, key=settings.api.key is not None)
        try:
            yield
        finally:
            app.state.services.close()
            app.state.services = None
            log.info("api_stopped")

    app = FastAPI(
        title="discorecs",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = None
    app.state.registry = CollectorRegistry()
    app.state.registry.register(metrics.PipelineCollector(lambda: app.state.services))
    app.add_middleware(
        metrics.RequestTimer, histogram=metrics.request_histogram(app.state.registry)
    )
    install_error_handlers(app)
    app.include_router(health.router)
    keyed = [Depends(require_key)]
    for module in (users, ingest, releases, ops, metrics):
        app.include_router(module.router, dependencies=keyed)
    app.include_router(web.router)
    app.mount("/static", web.static_files(), name="static")
    return app
