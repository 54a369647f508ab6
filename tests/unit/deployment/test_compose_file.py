"""docker-compose.yml parses, long-running services have healthchecks, init waits on health."""

import yaml

from tests.support import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ONE_SHOT = {name for name, spec in SERVICES.items() if spec.get("restart") == "no"}


def test_compose_has_the_cluster_services() -> None:
    assert {"kafka", "cassandra", "spark-master", "spark-worker"} <= set(SERVICES)
    assert {"schema-init", "topics-init"} <= ONE_SHOT


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, spec in SERVICES.items():
        if name not in ONE_SHOT:
            assert spec.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_dependencies_wait_for_health() -> None:
    for name, spec in SERVICES.items():
        for dependency, condition in spec.get("depends_on", {}).items():
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"
            assert condition == {"condition": "service_healthy"}, name


def test_kafka_listeners_work_inside_and_outside_the_network() -> None:
    env = SERVICES["kafka"]["environment"]
    advertised = env["KAFKA_ADVERTISED_LISTENERS"]
    assert "kafka:29092" in advertised and "localhost:9092" in advertised
    assert "9092:9092" in SERVICES["kafka"]["ports"]


def test_schema_init_reads_the_project_schema() -> None:
    volumes = SERVICES["schema-init"]["volumes"]
    assert any(v.startswith("./schema:") for v in volumes)
    assert (REPO_ROOT / "schema").is_dir()
