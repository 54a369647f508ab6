"""``/metrics``: Prometheus text of the API's request latencies and of the pipeline's state.

Request latencies are histograms per method, route template (``/users/{user_id}``, never the
raw path) and status. The pipeline's figures are read at scrape time: the stream's lag and last
micro-batch (:mod:`spark_jobs.stream.progress`), its dead letters, the last hourly run and its
steps (``batch_runs``), and the latest ``quality_runs`` figures. A part
that cannot be read is left out and reported by ``discorecs_metrics_source_up{source}``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from discorecs.app.api.context import Services
from discorecs.app.api.pipeline import BatchLog
from discorecs.app.api.quality import group_quality, run_time

UNMATCHED = "unmatched"
"""Route label of requests no route matched (404s of unknown paths)."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Method labels kept as they are; any other method is labelled :data:`OTHER_METHOD`."""
OTHER_METHOD = "OTHER"
"""Method label of a request with a method outside :data:`METHODS` (any token is valid HTTP,
so labelling it raw would let a client add series without bound)."""


def method_label(scope: Scope) -> str:
    """The request's method, or :data:`OTHER_METHOD` for one outside :data:`METHODS`."""
    method = scope["method"]
    return method if method in METHODS else OTHER_METHOD


def route_template(scope: Scope) -> str:
    """The matched route's path template, or :data:`UNMATCHED`."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestTimer:
    """ASGI middleware observing each HTTP request's seconds in a histogram.

    Args:
        app: The wrapped application.
        histogram: Labelled ``method``, ``route``, ``status``.

    """

    def __init__(self, app: ASGIApp, histogram: Histogram) -> None:
        self.app = app
        self.histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time one request (other ASGI traffic passes through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        code = [500]

        async def record_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                code[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            self.histogram.labels(method_label(scope), route_template(scope), str(code[0])).observe(
                time.perf_counter() - started
            )


def request_histogram(registry: CollectorRegistry) -> Histogram:
    """The request latency histogram, registered in ``registry``."""
    return Histogram(
        "discorecs_api_request_seconds",
        "Seconds to answer an API request, per method, route template and status.",
        ["method", "route", "status"],
        registry=registry,
    )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def stream_metrics(log: BatchLog, now: float) -> Iterator[Metric]:
    """Gauges of the last micro-batch and the dead-letter total of the batch log."""
    yield CounterMetricFamily(
        "discorecs_stream_dead_letters",
        "Records the stream sent to the dead-letter topic (from its batch log).",
        value=log.dead_letters,
    )
    if not log.batches:
        return
    last = log.batches[-1]
    yield _gauge("discorecs_stream_last_batch_id", "Id of the last micro-batch.", last["batch_id"])
    yield _gauge("discorecs_stream_last_batch_rows", "Records in the last batch.", last["rows_in"])
    yield _gauge(
        "discorecs_stream_last_batch_seconds", "Duration of the last batch.", last["seconds"]
    )
    yield _gauge(
        "discorecs_stream_last_batch_input_rate",
        "Records per second of the last batch.",
        last["input_rate"],
    )
    yield _gauge(
        "discorecs_stream_last_batch_age_seconds",
        "Seconds since the last batch was written.",
        now - last["written_at_ms"] / 1000,
    )
    for quantile in ("p50", "p99"):
        value = last[f"latency_{quantile}_ms"]
        if value is not None:
            yield _gauge(
                f"discorecs_stream_last_batch_latency_{quantile}_seconds",
                f"Event time to written, {quantile} of the last batch.",
                value / 1000,
            )


def hourly_metrics(services: Services) -> Iterator[Metric]:
    """Gauges of the last hourly run and its steps."""
    runs = services.reads.hourly_runs()
    if not runs:
        return
    run = runs[0]
    yield _gauge("discorecs_hourly_last_run_ok", "1 when every step succeeded.", float(run.ok))
    at = run_time(uuid.UUID(run.run_id))
    if at is not None:
        yield _gauge(
            "discorecs_hourly_last_run_timestamp_seconds",
            "When the last hourly run started.",
            at.timestamp(),
        )
    seconds = GaugeMetricFamily(
        "discorecs_hourly_step_seconds", "Seconds of each step of the last run.", labels=["step"]
    )
    rows = GaugeMetricFamily(
        "discorecs_hourly_step_rows", "Rows of each step of the last run.", labels=["step"]
    )
    for step in run.steps:
        seconds.add_metric([step.step], step.seconds)
        rows.add_metric([step.step], step.rows)
    yield seconds
    yield rows


def quality_metrics(services: Services) -> Iterator[Metric]:
    """The latest hourly run's online-check figures (nothing before the first run)."""
    rows = services.reads.quality_rows()
    runs = group_quality(rows) if rows is not None else []
    if not runs:
        return
    family = GaugeMetricFamily(
        "discorecs_quality", "Figures of the latest quality run.", labels=["metric"]
    )
    for metric, value in sorted(runs[-1].metrics.items()):
        family.add_metric([metric], value)
    yield family


class PipelineCollector(Collector):
    """Reads the pipeline's state at each scrape (nothing before the app has started).

    Args:
        current: Returns the running app's services, or ``None`` before startup.

    """

    def __init__(self, current: Callable[[], Services | None]) -> None:
        self.current = current

    def collect(self) -> Iterator[Metric]:
        """Every family whose source could be read, and which sources could."""
        services = self.current()
        if services is None:
            return
        up = GaugeMetricFamily(
            "discorecs_metrics_source_up", "1 when a source could be read.", labels=["source"]
        )
        sources: dict[str, Callable[[], Iterator[Metric]]] = {
            "stream_batches": lambda: stream_metrics(services.pipeline.batch_log(), time.time()),
            "stream_lag": lambda: iter(
                [
                    _gauge(
                        "discorecs_stream_lag_records",
                        "Records on the broker the stream has not committed.",
                        services.pipeline.stream_lag(),
                    )
                ]
            ),
            "hourly_runs": lambda: hourly_metrics(services),
            "quality_runs": lambda: quality_metrics(services),
        }
        for name, read in sources.items():
            try:
                families = list(read())
            except Exception:  # noqa: BLE001 - a source that cannot be read is reported as down
                up.add_metric([name], 0.0)
                continue
            up.add_metric([name], 1.0)
            yield from families
        yield up


router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus text format (request latencies, stream, dead letters, hourly run, quality)."""
    registry: CollectorRegistry = request.app.state.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
