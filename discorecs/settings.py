"""Typed settings for every discorecs component, read once from ``DISCORECS_*`` variables.

Nothing else in the project reads ``os.environ``: components take a :class:`Settings` object.
The defaults fit the local cluster that ``discorecs cluster up`` starts on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]

TOPIC_NAMES = ("users", "collections", "activity", "dead_letters")

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


class Settings(BaseSettings):
    """Connection, layout and tuning settings; every field is ``DISCORECS_<FIELD>`` in the env."""

    model_config = SettingsConfigDict(env_prefix="DISCORECS_", extra="forbid", frozen=True)

    root: Path = Field(REPO_ROOT, description="Project root holding .jars/ and .cluster/.")
    cluster_dir: Path | None = Field(None, description="Data, logs and pids of the local cluster.")
    jars_dir: Path | None = Field(None, description="Jars resolved by Maven (make jars).")
    java_home: Path | None = Field(
        None,
        validation_alias=AliasChoices("DISCORECS_JAVA_HOME", "JAVA_HOME"),
        description="Java 17 home; falls back to `java` on PATH.",
    )

    kafka_host: str = "127.0.0.1"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "512m"
    topic_prefix: str = Field("", description="Prefix of every topic name (tests isolate with it).")
    topic_partitions: int = 4

    cassandra_host: str = "127.0.0.1"
    cassandra_port: int = 9042
    cassandra_storage_port: int = 7000
    cassandra_heap: str = "1g"
    keyspace: str = "discorecs"

    spark_master: str = "local[2]"
    spark_driver_memory: str = "2g"
    spark_shuffle_partitions: int = 4
    checkpoint_dir: Path | None = None
    stream_batch_timeout_s: float = Field(
        180.0, description="A micro-batch running longer ends the stream process (exit 75)."
    )

    startup_timeout_s: float = 180.0

    @field_validator("keyspace")
    @classmethod
    def _keyspace_is_identifier(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(f"keyspace {value!r} must match {_IDENTIFIER.pattern}")
        return value

    @property
    def cluster_path(self) -> Path:
        """Directory holding the local cluster's data, logs and pid files."""
        return self.cluster_dir or self.root / ".cluster"

    @property
    def jars_path(self) -> Path:
        """Directory holding one sub-folder of jars per service (kafka, cassandra, spark)."""
        return self.jars_dir or self.root / ".jars"

    @property
    def checkpoint_path(self) -> Path:
        """Root of the Structured Streaming checkpoints (one sub-folder per query)."""
        return self.checkpoint_dir or self.cluster_path / "checkpoints" / self.keyspace

    @property
    def kafka_bootstrap(self) -> str:
        """``host:port`` of the Kafka broker's client listener."""
        return f"{self.kafka_host}:{self.kafka_port}"

    def topic(self, name: str) -> str:
        """Full topic name for one of :data:`TOPIC_NAMES`, with the configured prefix."""
        if name not in TOPIC_NAMES:
            raise ValueError(f"unknown topic {name!r}; known: {', '.join(TOPIC_NAMES)}")
        return f"{self.topic_prefix}{name}"

    @property
    def java_binary(self) -> Path:
        """The ``java`` executable the cluster is started with."""
        if self.java_home:
            return self.java_home / "bin" / "java"
        found = shutil.which("java")
        return Path(found) if found else Path("java")

    def child_env(self) -> dict[str, str]:
        """Return the current environment plus these settings as ``DISCORECS_*`` variables.

        A ``discorecs`` child process started with it sees the same settings.
        """
        env = dict(os.environ)
        for name, value in self.model_dump(exclude_none=True).items():
            env[f"DISCORECS_{name.upper()}"] = str(value)
        return env


def load_settings(**overrides: object) -> Settings:
    """Build :class:`Settings` from the environment, with explicit overrides on top."""
    return Settings(**overrides)
