"""Readiness is the conjunction of its checks."""

from discorecs.app.api.health import health_of
from discorecs.app.api.pipeline import Check


def test_ready_only_when_every_check_passed() -> None:
    good = {"kafka": Check(True, "ok"), "cassandra": Check(True, "ok")}
    assert health_of(good).status == "ready"
    bad = {**good, "stream": Check(False, "lag 9 records", 9)}
    health = health_of(bad)
    assert health.status == "not ready"
    assert health.checks["stream"].model_dump() == {"ok": False, "detail": "lag 9 records"}
