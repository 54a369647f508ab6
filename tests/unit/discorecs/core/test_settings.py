"""Settings: nested DISCORECS_<GROUP>_<FIELD> variables, typos rejected, env round trip."""

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from discorecs.core.settings import Settings, SettingsError, env_name, setting_default


def nested(group: str, field: str, value: object) -> dict[str, Any]:
    """Settings keyword arguments setting one field of one group."""
    return {group: {field: value}}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No DISCORECS_* or JAVA_HOME variable of the calling shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("DISCORECS_") or name == "JAVA_HOME":
            monkeypatch.delenv(name)
    return monkeypatch


def test_nested_variables_reach_their_group(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("DISCORECS_KAFKA_PORT", "19092")
    clean_environment.setenv("DISCORECS_STREAMING_MAX_OFFSETS", "5000")
    clean_environment.setenv("DISCORECS_TOPIC_PREFIX", "x.")
    settings = Settings()
    assert settings.kafka.port == 19092
    assert settings.streaming.max_offsets == 5000
    assert settings.kafka_bootstrap == "127.0.0.1:19092"
    assert settings.topic("collections") == "x.collections"
    assert settings.cassandra.port == 9042


def test_a_typo_in_a_nested_variable_is_an_error(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("DISCORECS_KAFKA_PROT", "19092")
    with pytest.raises(ValidationError, match=r"kafka\.prot"):
        Settings()


def test_settings_reject_typos_bad_values_and_unknown_topics() -> None:
    with pytest.raises(ValidationError):
        Settings(kafka_prot=1)
    with pytest.raises(ValidationError):
        Settings(kafka={"prot": 1})
    with pytest.raises(ValidationError):
        Settings(keyspace="drop table;")
    with pytest.raises(ValidationError):
        Settings(streaming={"max_offsets": "many"})
    with pytest.raises(ValueError):
        Settings().topic("nope")


def test_as_env_round_trips(clean_environment: pytest.MonkeyPatch) -> None:
    original = Settings(
        keyspace="ks_round_trip",
        topic_prefix="t1.",
        java_home=Path("/opt/jdk-17"),
        cluster_dir=Path("/tmp/cluster"),
        kafka={"port": 19092, "heap": "256m"},
        streaming={"max_offsets": 7, "trigger_seconds": 0.5},
        scoring={"neighbours": 3},
    )
    env = original.as_env()
    assert env["DISCORECS_KAFKA_PORT"] == "19092"
    assert env["DISCORECS_STREAMING_MAX_OFFSETS"] == "7"
    assert env["DISCORECS_JAVA_HOME"] == "/opt/jdk-17"
    assert "DISCORECS_JARS_DIR" not in env
    for name, value in env.items():
        clean_environment.setenv(name, value)
    assert Settings() == original


def test_child_env_keeps_the_environment_and_adds_the_settings(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("UNRELATED_VARIABLE", "kept")
    env = Settings(keyspace="ks_child").child_env()
    assert env["UNRELATED_VARIABLE"] == "kept"
    assert env["DISCORECS_KEYSPACE"] == "ks_child"


def test_with_updates_changes_one_group_field_and_keeps_the_rest() -> None:
    settings = Settings()
    updated = settings.with_updates(keyspace="x", streaming={"max_offsets": 5})
    assert updated.keyspace == "x"
    assert updated.streaming.max_offsets == 5
    assert updated.streaming.retry_seconds == settings.streaming.retry_seconds
    assert updated.kafka == settings.kafka
    assert settings.keyspace == "discorecs" and settings.streaming.max_offsets == 200_000


def test_with_updates_validates_like_the_constructor() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.with_updates(keyspace="drop table;")
    with pytest.raises(ValidationError):
        settings.with_updates(streaming={"max_offset": 5})
    assert settings.with_updates(streaming={"max_offsets": "7"}).streaming.max_offsets == 7


def test_derived_paths_follow_root_and_keyspace() -> None:
    settings = Settings(root=Path("/srv/discorecs"), keyspace="ks")
    assert settings.cluster_path == Path("/srv/discorecs/.cluster")
    assert settings.jars_path == Path("/srv/discorecs/.jars")
    assert settings.checkpoint_path == Path("/srv/discorecs/.cluster/checkpoints/ks")
    assert Settings(java_home=Path("/opt/jdk")).java_binary == Path("/opt/jdk/bin/java")


def test_relative_folders_become_absolute(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_environment.chdir(tmp_path)
    clean_environment.setenv("DISCORECS_CLUSTER_DIR", ".cluster2")
    settings = Settings(jars_dir=Path("jars"))
    assert settings.cluster_path == tmp_path / ".cluster2"
    assert settings.jars_path == tmp_path / "jars"
    assert settings.checkpoint_dir is None


@pytest.mark.parametrize(
    "group", ["api.port", "kafka.port", "kafka.controller_port", "cassandra.storage_port"]
)
def test_every_port_is_a_tcp_port(group: str) -> None:
    name, _, field = group.partition(".")
    for port in (0, 70000):
        with pytest.raises(ValidationError, match=group):
            Settings(**nested(name, field, port))


@pytest.mark.parametrize(
    "setting",
    [
        {"startup_timeout_s": 0},
        {"cassandra": {"request_timeout_s": 0}},
        {"spark": {"cores_max": 0}},
        {"spark": {"executor_cores": 0}},
        {"scoring": {"list_threads": 0}},
        {"scoring": {"ann_threads": 0}},
        {"scoring": {"hybrid_threads": 0}},
    ],
)
def test_timeouts_and_cores_must_be_above_zero(setting: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**setting)  # type: ignore[arg-type]


def test_thread_and_process_counts_default_to_the_cpus_this_process_may_use(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    settings, cores = Settings(), len(os.sched_getaffinity(0))
    scoring = settings.scoring
    assert (scoring.list_threads, scoring.ann_threads, scoring.hybrid_threads) == (cores,) * 3
    assert settings.loader.workers == cores


def test_java_home_falls_back_to_java_home(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("JAVA_HOME", "/opt/from-java-home")
    assert Settings().java_home == Path("/opt/from-java-home")
    clean_environment.setenv("DISCORECS_JAVA_HOME", "/opt/from-discorecs")
    assert Settings().java_home == Path("/opt/from-discorecs")


def test_env_name_of_a_setting() -> None:
    assert env_name("streaming.max_offsets") == "DISCORECS_STREAMING_MAX_OFFSETS"
    assert env_name("kafka.port") == "DISCORECS_KAFKA_PORT"
    assert env_name("keyspace") == "DISCORECS_KEYSPACE"
    with pytest.raises(KeyError):
        env_name("nope.x")
    with pytest.raises(KeyError):
        env_name("kafka.nope")


def test_setting_default_is_the_group_default() -> None:
    assert setting_default("streaming.max_offsets") == 200_000
    assert setting_default("loader.batch_rows") == Settings().loader.batch_rows


def test_one_node_by_default_addresses_unchanged() -> None:
    settings = Settings()
    assert settings.nodes == 1 and settings.replication_factor == 1
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.cassandra_hosts == ["127.0.0.1"]
    assert settings.spark_master_url == "local[2]"


def test_node_i_listens_on_the_ith_loopback_address(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("DISCORECS_NODES", "3")
    clean_environment.setenv("DISCORECS_KAFKA_PORT", "19092")
    clean_environment.setenv("DISCORECS_SPARK_MASTER_PORT", "17077")
    settings = Settings()
    assert settings.replication_factor == 3
    assert settings.kafka_bootstrap == "127.0.0.1:19092,127.0.0.2:19092,127.0.0.3:19092"
    assert settings.cassandra_hosts == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert settings.spark_master_url == "spark://127.0.0.1:17077"
    assert Settings(nodes=5).replication_factor == 3
    assert Settings(nodes=3, spark={"master": "local[1]"}).spark_master_url == "local[1]"


def test_listed_nodes_win_over_derived_addresses() -> None:
    settings = Settings(
        nodes=3,
        kafka={"host": "kafka-1", "bootstrap_servers": "kafka-1:9092,kafka-2:9092,kafka-3:9092"},
        cassandra={"host": "cassandra-1", "contact_points": "cassandra-1, cassandra-2,cassandra-3"},
    )
    assert settings.kafka_bootstrap == "kafka-1:9092,kafka-2:9092,kafka-3:9092"
    assert [settings.kafka_host(i) for i in (1, 2, 3)] == ["kafka-1", "kafka-2", "kafka-3"]
    assert settings.cassandra_hosts == ["cassandra-1", "cassandra-2", "cassandra-3"]
    assert settings.cassandra_host(2) == "cassandra-2"


def test_several_nodes_need_addresses_they_can_count_from() -> None:
    settings = Settings(nodes=3, cassandra={"host": "db.example"})
    assert settings.cassandra_host(1) == "db.example"
    with pytest.raises(SettingsError, match="not an IP address"):
        settings.cassandra_host(2)
    listed = Settings(nodes=3, cassandra={"contact_points": "10.0.0.1,10.0.0.2"})
    with pytest.raises(SettingsError, match="lists 2 hosts, but 3 nodes are set"):
        listed.cassandra_host(3)


def test_no_setting_takes_a_negative_number() -> None:
    with pytest.raises(ValidationError, match="recall_sample must not be negative"):
        Settings(scoring={"recall_sample": -1})
    for group, field in (("streaming", "max_offsets"), ("scoring", "neighbours")):
        with pytest.raises(ValidationError, match="greater than 0"):
            Settings(**nested(group, field, 0))
    assert Settings(scoring={"friend_prior": 0.0}).scoring.friend_prior == 0.0
    with pytest.raises(ValidationError, match="less than or equal to 13"):
        Settings(scoring={"neighbours": 14})  # scores above 13.1 would tie in the ranking key


def test_nodes_and_consistency_levels_are_validated() -> None:
    with pytest.raises(ValidationError):
        Settings(nodes=0)
    with pytest.raises(ValidationError):
        Settings(cassandra={"consistency": "MOST"})
    assert Settings(spark={"output_consistency": "ALL"}).spark.output_consistency == "ALL"
    with pytest.raises(ValidationError):
        Settings(cassandra={"consistency": "ANY"})
    assert Settings(cassandra={"consistency": "ONE"}).cassandra.consistency == "ONE"
    with pytest.raises(ValidationError, match="reads would miss writes"):
        Settings(nodes=3, cassandra={"consistency": "ONE"})
    assert Settings(nodes=3, spark={"output_consistency": "LOCAL_QUORUM"}).nodes == 3
    assert env_name("nodes") == "DISCORECS_NODES"
