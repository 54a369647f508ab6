"""Request latencies are labelled by route template; pipeline figures of the batch log."""

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest

from discorecs.app.api.metrics import RequestTimer, request_histogram, stream_metrics
from discorecs.app.api.pipeline import BatchLog


def timed_users_app(registry: CollectorRegistry) -> TestClient:
    """A client of an app with one route, ``/users/{user_id}``, timed into ``registry``."""
    app = FastAPI()

    @app.get("/users/{user_id}")
    def user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}

    app.add_middleware(RequestTimer, histogram=request_histogram(registry))
    return TestClient(app)


def test_requests_are_timed_per_route_template_not_raw_path() -> None:
    registry = CollectorRegistry()
    client = timed_users_app(registry)
    for path in ("/users/1", "/users/2", "/users/x", "/nowhere"):
        client.get(path)
    text = generate_latest(registry).decode()
    assert (
        'discorecs_api_request_seconds_count{method="GET",route="/users/{user_id}",status="200"}'
        " 2.0"
    ) in text
    assert 'route="/users/{user_id}",status="422"' in text
    assert 'route="unmatched",status="404"' in text
    assert "/users/1" not in text


def test_made_up_methods_share_one_label() -> None:
    registry = CollectorRegistry()
    client = timed_users_app(registry)
    for n in range(5):
        client.request(f"X{n}", "/users/1")
    text = generate_latest(registry).decode()
    assert (
        'discorecs_api_request_seconds_count{method="OTHER",route="/users/{user_id}",status="405"}'
        " 5.0"
    ) in text
    assert 'method="X' not in text


def test_the_batch_log_gives_the_last_batch_and_the_dead_letter_total() -> None:
    batches: list[dict[str, Any]] = [
        {
            "batch_id": 4,
            "dead_letters": 2,
            "rows_in": 5,
            "seconds": 1.0,
            "input_rate": 5.0,
            "written_at_ms": 1_000,
            "latency_p50_ms": 100.0,
            "latency_p99_ms": None,
        },
        {
            "batch_id": 5,
            "dead_letters": 3,
            "rows_in": 7,
            "seconds": 2.0,
            "input_rate": 3.5,
            "written_at_ms": 9_000,
            "latency_p50_ms": 1500.0,
            "latency_p99_ms": 2500.0,
        },
    ]
    values = {
        sample.name: sample.value
        for family in stream_metrics(BatchLog(batches, total=2, dead_letters=5), now=10.0)
        for sample in family.samples
    }
    assert values["discorecs_stream_dead_letters_total"] == 5
    assert values["discorecs_stream_last_batch_id"] == 5
    assert values["discorecs_stream_last_batch_age_seconds"] == 1.0
    assert values["discorecs_stream_last_batch_latency_p99_seconds"] == 2.5
    assert list(stream_metrics(BatchLog([], 0, 0), now=0.0))[0].samples[0].value == 0
