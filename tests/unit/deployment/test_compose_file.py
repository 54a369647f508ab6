"""docker-compose.yml: the launcher's topology from one image, healthy dependencies, loopback."""

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from discorecs.core.settings import Settings
from discorecs.core.topics import DEAD_LETTERS, TOPIC_NAMES, topic_config
from spark_jobs.stream.runner import checkpoint_lock
from tests.support import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ONE_SHOT = {name for name, spec in SERVICES.items() if spec.get("restart") == "no"}
NODES = [f"{s}-{i}" for s in ("kafka", "cassandra") for i in (1, 2, 3)]
SPARK = ["spark-master", "spark-worker-1", "spark-worker-2"]
JOBS = ["stream", "hourly", "api"]


def settings_of(service: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings a service's container builds from its environment."""
    for name in list(os.environ):
        if name.startswith("DISCORECS_") or name == "JAVA_HOME":
            monkeypatch.delenv(name)
    for name, value in SERVICES[service]["environment"].items():
        monkeypatch.setenv(name, str(value))
    return Settings(cluster_dir=Path("/data"))


def test_the_topology_of_cluster_up_with_three_nodes() -> None:
    assert set(SERVICES) == {*NODES, *SPARK, "schema-init", *JOBS}
    assert ONE_SHOT == {"schema-init"}


def test_only_top_level_keys_docker_compose_1_29_accepts() -> None:
    """`docker-compose config` (Debian's 1.29) rejects a top-level ``name``; ``-p`` names it."""
    extensions = {key for key in COMPOSE if key.startswith("x-")}
    assert set(COMPOSE) - extensions == {"services", "volumes"}


def test_every_service_runs_the_one_application_image() -> None:
    assert {spec["image"] for spec in SERVICES.values()} == {"discorecs:latest"}
    assert {spec["build"] for spec in SERVICES.values()} == {"."}
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "openjdk-17-jre-headless" in dockerfile and "python:3.11" in dockerfile
    assert "COPY --from=jars" in dockerfile and "/app/.venv" in dockerfile


def test_cluster_services_are_the_launchers_nodes_by_name() -> None:
    for name in (*NODES, *SPARK):
        assert SERVICES[name]["command"] == ["discorecs", "cluster", "run", name]
        test = SERVICES[name]["healthcheck"]["test"]
        assert test == ["CMD", "discorecs", "cluster", "status", name]


def test_node_i_of_the_settings_is_the_service_named_so(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_of("kafka-1", monkeypatch)
    assert settings.nodes == 3
    assert [settings.kafka_host(i) for i in (1, 2, 3)] == ["kafka-1", "kafka-2", "kafka-3"]
    assert settings.cassandra_hosts == ["cassandra-1", "cassandra-2", "cassandra-3"]
    assert settings.spark_master_url == "spark://spark-master:7077"
    for worker in ("spark-worker-1", "spark-worker-2"):
        assert settings_of(worker, monkeypatch).spark.host == worker


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, spec in SERVICES.items():
        if name not in ONE_SHOT:
            assert spec.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
            assert spec.get("restart") == "unless-stopped", name


def test_dependencies_wait_for_health_or_for_the_init_to_finish() -> None:
    for name, spec in SERVICES.items():
        for dependency, condition in spec.get("depends_on", {}).items():
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"
            wanted = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert condition == {"condition": wanted}, f"{name} -> {dependency}"


def test_start_order_nodes_join_one_by_one_jobs_after_init() -> None:
    def after(name: str) -> set[str]:
        return set(SERVICES[name].get("depends_on", {}))

    assert after("cassandra-2") == {"cassandra-1"} and after("cassandra-3") == {"cassandra-2"}
    assert after("spark-worker-1") == after("spark-worker-2") == {"spark-master"}
    assert after("schema-init") == set(NODES)
    assert after("stream") == {"schema-init", "spark-worker-1", "spark-worker-2"}
    assert after("hourly") == {"stream"}
    assert "schema-init" in after("api")


def test_schema_init_creates_replicated_topics_with_the_launchers_compaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert SERVICES["schema-init"]["command"] == ["discorecs", "schema", "apply"]
    settings = settings_of("schema-init", monkeypatch)
    assert settings.replication_factor == 3
    dead_letters = topic_config(settings, DEAD_LETTERS)
    assert dead_letters["cleanup.policy"] == "compact,delete"
    assert all(topic_config(settings, t)["min.insync.replicas"] == "2" for t in TOPIC_NAMES)


def test_the_jobs_are_discorecs_commands_with_reachable_drivers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert SERVICES["stream"]["command"] == ["discorecs", "stream"]
    assert "deployment/spark_submits.sh" in SERVICES["hourly"]["command"][-1]
    assert SERVICES["api"]["command"][:2] == ["discorecs", "serve"]
    for job in ("stream", "hourly"):
        settings = settings_of(job, monkeypatch)
        assert settings.spark.driver_host == job
        assert settings.spark.driver_bind_address == "0.0.0.0"


def test_the_hourly_job_is_healthy_after_a_recent_successful_run() -> None:
    loop = SERVICES["hourly"]["command"][-1]
    assert "then\n    touch /tmp/hourly.ok" in loop
    assert SERVICES["hourly"]["healthcheck"]["test"] == [
        "CMD-SHELL",
        "find /tmp/hourly.ok -mmin -125 | grep -q .",
    ]


def test_stream_and_hourly_share_the_checkpoint_folder() -> None:
    assert SERVICES["stream"]["volumes"] == SERVICES["hourly"]["volumes"] == ["pipeline-data:/data"]


@pytest.mark.parametrize("keyspace", [None, "other_keyspace"])
def test_the_stream_is_healthy_while_it_holds_the_lock_of_the_settings_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keyspace: str | None
) -> None:
    env = {name: str(value) for name, value in SERVICES["stream"]["environment"].items()}
    env |= {"PATH": os.environ["PATH"], "DISCORECS_CLUSTER_DIR": str(tmp_path)}
    if keyspace is not None:
        env["DISCORECS_KEYSPACE"] = keyspace
    for name in list(os.environ):
        if name.startswith("DISCORECS_") or name == "JAVA_HOME":
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    command = SERVICES["stream"]["healthcheck"]["test"][1].replace("$$", "$")

    def healthy() -> bool:
        return subprocess.run(["sh", "-c", command], env=env, check=False).returncode == 0

    assert not healthy()  # no checkpoint folder yet
    settings.checkpoint_path.mkdir(parents=True)
    assert not healthy()  # a folder, no stream
    with checkpoint_lock(settings) as owned:
        assert owned and healthy()
    assert not healthy()


def test_nothing_is_published_beyond_loopback() -> None:
    published = {
        name: spec["ports"] for name, spec in SERVICES.items() if spec.get("ports") is not None
    }
    assert published == {
        "cassandra-1": ["127.0.0.1:9042:9042"],
        "spark-master": ["127.0.0.1:8080:8080"],
        "api": ["127.0.0.1:8000:8000"],
    }
    assert SERVICES["api"]["command"][2:4] == ["--host", "0.0.0.0"]


def test_every_node_keeps_its_data_in_its_own_volume() -> None:
    for name in NODES:
        assert SERVICES[name]["volumes"] == [f"{name}-data:/data"]
    assert set(COMPOSE["volumes"]) == {f"{n}-data" for n in NODES} | {"pipeline-data"}
