"""Where the jobs run: local[2] with one node, the standalone master with executors sized."""

from discorecs.core.settings import Settings
from spark_jobs.session import standalone_config


def test_local_mode_sets_no_executor_sizes() -> None:
    assert standalone_config(Settings()) == {}
    assert standalone_config(Settings(nodes=3, spark={"master": "local[2]"})) == {}


def test_a_standalone_master_gets_sized_executors_and_a_core_cap() -> None:
    config = standalone_config(Settings(nodes=3, spark={"cores_max": 2, "executor_memory": "1g"}))
    assert config == {
        "spark.executor.memory": "1g",
        "spark.executor.cores": "1",
        "spark.cores.max": "2",
    }
