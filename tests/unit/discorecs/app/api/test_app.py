"""The app before it connects anywhere: API key, input validation, the page shell, OpenAPI.

No lifespan runs here (no ``with TestClient``), so nothing reaches Cassandra or Kafka: each
answer below is decided before a route would touch a service.
"""

import pytest
from fastapi.testclient import TestClient

from discorecs.app.api.app import create_app
from discorecs.core.settings import Settings

KEY = "s3cret"


@pytest.fixture
def keyed() -> TestClient:
    return TestClient(create_app(Settings(api={"key": KEY})))


@pytest.fixture
def open_app() -> TestClient:
    return TestClient(create_app(Settings()))


@pytest.mark.parametrize(
    "path",
    ["/users/1", "/users?name=x", "/releases/1", "/trending", "/metrics", "/ops/dashboard"],
)
def test_data_routes_need_the_key(keyed: TestClient, path: str) -> None:
    for headers in ({}, {"X-API-Key": "wrong"}):
        answer = keyed.get(path, headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {"detail": "missing or wrong X-API-Key header"}
    posted = keyed.post("/users/1/events", json={"kind": "add", "release_id": 1})
    assert posted.status_code == 401


def test_with_the_key_a_bad_request_is_a_one_line_422(keyed: TestClient) -> None:
    answer = keyed.get("/users/abc", headers={"X-API-Key": KEY})
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "path.user_id: Input should be a valid integer, unable to parse string as an "
        "integer"
    }


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/users/0", None),
        ("get", "/users/9223372036854775808", None),
        ("get", "/users/1/recommendations?n=0", None),
        ("get", "/users/1/recommendations?fresh=maybe", None),
        ("get", "/users/1/similar?n=51", None),
        ("get", "/trending?n=1000", None),
        ("get", "/ops/dashboard?window_s=1", None),
        ("post", "/users/1/events", {"kind": "steal", "release_id": 1}),
        ("post", "/users/1/events", {"kind": "add", "release_id": "1"}),
        ("post", "/users/1/events", {"kind": "add", "release_id": True}),
        ("post", "/users/1/events", {"kind": "add"}),
        ("post", "/users/1/events", {"kind": "add", "release_id": 1, "extra": 1}),
        ("post", "/users/1/events", "not json"),
    ],
)
def test_malformed_requests_are_422_with_one_line(
    open_app: TestClient, method: str, path: str, body: object
) -> None:
    if method == "get":
        answer = open_app.get(path)
    elif isinstance(body, str):
        answer = open_app.post(path, content=body, headers={"Content-Type": "application/json"})
    else:
        answer = open_app.post(path, json=body)
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail


def test_health_live_page_shell_and_static_files_need_no_key(keyed: TestClient) -> None:
    assert keyed.get("/health/live").json() == {"status": "live"}
    for path in ("/", "/ui/users/42", "/ui/ops"):
        page = keyed.get(path)
        assert page.status_code == 200
        assert '<main id="view">' in page.text and "/static/app.js" in page.text
    for asset, kind in (
        ("app.js", "javascript"),
        ("charts.js", "javascript"),
        ("style.css", "css"),
    ):
        served = keyed.get(f"/static/{asset}")
        assert served.status_code == 200 and kind in served.headers["content-type"]
    assert "http" not in keyed.get("/").text.replace('"http://www.w3.org/2000/svg"', "")


def test_unknown_paths_are_404(open_app: TestClient) -> None:
    assert open_app.get("/nowhere").status_code == 404


def test_openapi_lists_the_routes_and_the_key_scheme(open_app: TestClient) -> None:
    schema = open_app.get("/openapi.json").json()
    assert {
        "/users",
        "/users/{user_id}",
        "/users/{user_id}/recommendations",
        "/users/{user_id}/friend",
        "/users/{user_id}/similar",
        "/users/{user_id}/events",
        "/releases/{release_id}",
        "/releases/{release_id}/similar",
        "/trending",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/ops/dashboard",
    } <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    assert open_app.get("/docs").status_code == 200
