"""The command group: bad settings, no Cassandra or a Kafka failure end any command in one line."""

from pathlib import Path

import click
import pytest
from cassandra import InvalidRequest
from click.testing import CliRunner
from confluent_kafka import KafkaError, KafkaException

from deployment.processes import ClusterError
from discorecs.app.cli import Main, cassandra_refused, main
from discorecs.core.files import exclusive_lock


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"DISCORECS_NODES": "abc"}, "Error: invalid settings: nodes: Input should be a valid"),
        (
            {"DISCORECS_STREAMING_MAX_OFFSETS": "-5"},
            "Error: invalid settings: streaming.max_offsets: Input should be greater than 0 "
            "(got '-5')",
        ),
        (
            {"DISCORECS_NODES": "3", "DISCORECS_CASSANDRA_CONTACT_POINTS": "10.0.0.1,10.0.0.2"},
            "Error: '10.0.0.1,10.0.0.2' lists 2 hosts, but 3 nodes are set",
        ),
        (
            {"DISCORECS_NODES": "3", "DISCORECS_SPARK_INPUT_CONSISTENCY": "ONE"},
            "Error: invalid settings: spark.input_consistency=ONE with 3 nodes: reads would miss "
            "writes; use one of ALL, EACH_QUORUM, LOCAL_QUORUM, QUORUM",
        ),
        (
            {"DISCORECS_CASSANDRA_CONSISTENCY": "ANY"},
            "Error: invalid settings: cassandra.consistency: Input should be 'ONE'",
        ),
        (
            {"DISCORECS_SCORING_CALIBRATION": "3"},
            "Error: invalid settings: scoring.calibration: Input should be less than or equal to 1",
        ),
    ],
)
def test_bad_settings_are_one_line(env: dict[str, str], line: str) -> None:
    result = CliRunner().invoke(main, ["status"], env=env)
    assert result.exit_code == 1
    assert result.output.startswith(line) and result.output.count("\n") == 1
    assert "Traceback" not in result.output


def test_an_unreachable_cassandra_is_one_line() -> None:
    result = CliRunner().invoke(main, ["recommend", "1"], env={"DISCORECS_CASSANDRA_PORT": "1"})
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot reach Cassandra: 127.0.0.1:1: ")
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_a_contact_point_with_a_port_is_one_line() -> None:
    env = {"DISCORECS_CASSANDRA_CONTACT_POINTS": "127.0.0.1:9042"}
    result = CliRunner().invoke(main, ["recommend", "1"], env=env)
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot resolve any Cassandra contact point: ")
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_a_second_hourly_run_stops_in_one_line(tmp_path: Path) -> None:
    lock = tmp_path / "discorecs" / "hourly.lock"
    with exclusive_lock(lock) as held:
        assert held
        result = CliRunner().invoke(
            main, ["hourly", "--no-catch-up"], env={"DISCORECS_SNAPSHOT_DIR": str(lock.parent)}
        )
    assert result.exit_code == 1
    assert result.output == f"Error: another hourly run is going (it holds {lock})\n"


def test_a_kafka_failure_is_one_line() -> None:
    @click.group(cls=Main)
    def group() -> None:
        pass

    @group.command()
    def apply() -> None:
        error = KafkaError(KafkaError._TRANSPORT, "Failed to get metadata: broker down\nmore")
        raise KafkaException(error)

    result = CliRunner().invoke(group, ["apply"])
    assert result.exit_code == 1
    assert result.output == "Error: Kafka: Failed to get metadata: broker down\n"


def test_an_unwritable_hourly_lock_is_one_line(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    result = CliRunner().invoke(
        main, ["hourly", "--no-catch-up"], env={"DISCORECS_SNAPSHOT_DIR": str(not_a_folder)}
    )
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot write the hourly lock {not_a_folder}/")
    assert result.output.count("\n") == 1


def test_a_missing_keyspace_says_how_to_make_it() -> None:
    error = InvalidRequest('code=2200 [Invalid query] message="keyspace ks does not exist"')
    assert cassandra_refused(error) == (
        'Cassandra refused the request: code=2200 [Invalid query] message="keyspace ks does not '
        'exist"; apply the schema: discorecs schema apply'
    )


def test_missing_jars_are_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["stream", "--once"],
        env={"DISCORECS_JARS_DIR": str(tmp_path), "DISCORECS_CLUSTER_DIR": str(tmp_path)},
    )
    assert result.exit_code == 1
    assert result.output == (
        f"Error: no jars in {tmp_path / 'spark'}; run `make jars` first "
        "(or set DISCORECS_JARS_DIR)\n"
    )


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            ClusterError("kafka exited; last lines of its log:\n  boom"),
            "kafka exited; last lines of its log:\n  boom",
        ),
        (PermissionError(1, "Operation not permitted"), "[Errno 1] Operation not permitted"),
        (TimeoutError(), "TimeoutError()"),
    ],
)
def test_cluster_and_system_errors_end_without_a_traceback(error: Exception, line: str) -> None:
    @click.group(cls=Main)
    def group() -> None:
        pass

    @group.command()
    def down() -> None:
        raise error

    result = CliRunner().invoke(group, ["down"])
    assert result.exit_code == 1
    assert result.output == f"Error: {line}\n"
