"""Typed settings for every discorecs component, read once from ``DISCORECS_*`` variables.

Nothing else in the project reads ``os.environ``: components take a :class:`Settings` object.
Connection and tuning settings live in nested groups; a group's field is the variable
``DISCORECS_<GROUP>_<FIELD>`` (``DISCORECS_KAFKA_PORT``, ``DISCORECS_STREAMING_MAX_OFFSETS``).
An unknown field of a group, in the environment or in code, is an error, so a typo there fails
loudly instead of falling back to a default. The defaults fit the local cluster that
``discorecs cluster up`` starts on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from discorecs.core.topics import TOPIC_NAMES

ENV_PREFIX = "DISCORECS_"
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_CHECKOUT = Path(__file__).resolve().parents[2]


def _default_root() -> Path:
    """The source checkout for an editable install, else the current directory."""
    return _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else Path.cwd()


class Group(BaseModel):
    """A nested settings group: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class KafkaSettings(Group):
    """Where the broker listens and how topics are laid out."""

    host: str = "127.0.0.1"
    port: int = 9092
    controller_port: int = 9093
    heap: str = "512m"
    partitions: int = Field(4, description="Partitions of each pipeline topic.")


class CassandraSettings(Group):
    """Where the Cassandra node listens."""

    host: str = "127.0.0.1"
    port: int = 9042
    storage_port: int = 7000
    heap: str = "1g"
    request_timeout_s: float = 60.0


class SparkSettings(Group):
    """The Spark session of the stream and the hourly job."""

    master: str = "local[2]"
    driver_memory: str = "2g"
    shuffle_partitions: int = 4
    connector_concurrent_writes: int = Field(
        16, description="spark.cassandra.output.concurrent.writes"
    )
    connector_batch_bytes: int = Field(16384, description="spark.cassandra.output.batch.size.bytes")


class StreamingSettings(Group):
    """The Structured Streaming job (``discorecs stream``)."""

    max_offsets: int = Field(200_000, description="maxOffsetsPerTrigger: records per batch.")
    trigger_seconds: float = Field(0.0, description="Seconds between batches (0: back to back).")
    retry_seconds: float = Field(10.0, description="Wait before restarting a failed query.")
    batch_timeout_s: float = Field(
        180.0, description="A micro-batch running longer ends the stream process (exit 75)."
    )
    catch_up_max_failures: int = Field(3, description="Failures a catch-up run gives up after.")
    collection_concurrency: int = Field(64, description="Collection batches in flight.")


class ScoringSettings(Group):
    """The hourly scoring rules and their tuning."""

    neighbours: int = Field(10, description="k nearest neighbours per user.")
    list_length: int = Field(10, description="Recommendations per user.")
    recall_sample: int = Field(1000, description="Users in the ANN recall@1 check.")
    friend_prior: float = Field(
        1.0,
        description="The friend is the one of the k nearest with the best similarity * n / "
        "(n + friend_prior), n its collection size (0: simply the nearest).",
    )
    trending_hours: int = Field(24, description="Window of the trending counts.")
    activity_days: int = Field(30, description="Activity kept (and read for cold start).")
    fallback_depth: int = Field(200, description="Length of the popular fallback lists.")
    staging_margin_s: float = Field(
        10.0, description="Staged rows written this shortly before the read stay staged."
    )
    ann_m: int = 16
    ann_ef_construction: int = 40
    ann_ef_search: int = 64
    ann_threads: int = 2
    fusion_warm: dict[str, float] = Field(
        default_factory=lambda: {
            "neighbour_topn": 0.5,
            "itemknn": 0.5,
            "ease": 1.0,
            "ials": 0.125,
            "content": 2.0,
            "trending": 1.0,
        },
        description="The hybrid's source weights for users with more than fusion_cold_items "
        "items (chosen by `discorecs evaluate` on a validation split).",
    )
    fusion_cold: dict[str, float] = Field(
        default_factory=lambda: {
            "neighbour_topn": 0.125,
            "itemknn": 0.25,
            "ease": 0.5,
            "ials": 0.25,
            "content": 1.0,
            "trending": 1.0,
        },
        description="The hybrid's source weights for users with few items.",
    )
    fusion_cold_items: int = Field(3, description="Users with this many items or fewer are cold.")
    calibration: float = Field(0.2, description="Strength of the calibrated re-rank (0: none).")
    fusion_depth: int = Field(100, description="Items per source, and fused candidates kept.")


class LoaderSettings(Group):
    """The Discogs release loader (``discorecs parse releases``)."""

    chunk_size: int = Field(2000, description="Releases handed to the sinks at once.")
    concurrency: int = Field(16, description="Write requests in flight.")
    batch_rows: int = Field(25, description="Rows per UNLOGGED batch (1: single-row inserts).")
    batch_bytes: int = Field(24_000, description="Upper bound of one batch's values.")
    retries: int = Field(3, description="Extra attempts of a failed batch.")


class ProducerSettings(Group):
    """The confluent-kafka producer of synthetic events."""

    linger_ms: int = 20
    batch_bytes: int = 1_000_000
    batch_messages: int = 100_000
    compression: str = "lz4"
    queue_messages: int = 1_000_000


class ApiSettings(Group):
    """The HTTP API and web app (``discorecs serve``)."""

    host: str = Field("127.0.0.1", description="Address to bind (loopback by default).")
    port: int = 8000
    key: str | None = Field(
        None, description="When set, every route but /health/* and the page shell needs X-API-Key."
    )
    kafka_timeout_s: float = Field(
        10.0, description="An event not acknowledged by Kafka within this answers 503."
    )
    health_timeout_s: float = Field(2.0, description="Timeout of each readiness probe.")
    ready_max_lag: int = Field(
        100_000, description="Records the stream may lag behind and still be ready."
    )
    trending_cache_s: float = Field(
        30.0, description="Seconds the summed trending counts are reused (never collections)."
    )
    freshness_timeout_s: float = Field(
        60.0, description="How long the freshness benchmark waits for an add to show."
    )


class Settings(BaseSettings):
    """Connection, layout and tuning settings of every component."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
        frozen=True,
    )

    root: Path = Field(
        default_factory=_default_root, description="Folder holding .jars/ and .cluster/."
    )
    cluster_dir: Path | None = Field(None, description="Data, logs and pids of the local cluster.")
    jars_dir: Path | None = Field(None, description="Jars resolved by Maven (make jars).")
    checkpoint_dir: Path | None = Field(None, description="Structured Streaming checkpoints.")
    java_home: Path | None = Field(
        None,
        validation_alias=AliasChoices("DISCORECS_JAVA_HOME", "JAVA_HOME", "java_home"),
        description="Java 17 home; falls back to `java` on PATH.",
    )
    keyspace: str = "discorecs"
    topic_prefix: str = Field("", description="Prefix of every topic name (tests isolate with it).")
    startup_timeout_s: float = 180.0

    kafka: KafkaSettings = KafkaSettings()
    cassandra: CassandraSettings = CassandraSettings()
    spark: SparkSettings = SparkSettings()
    streaming: StreamingSettings = StreamingSettings()
    scoring: ScoringSettings = ScoringSettings()
    loader: LoaderSettings = LoaderSettings()
    producer: ProducerSettings = ProducerSettings()
    api: ApiSettings = ApiSettings()

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
        return f"{self.kafka.host}:{self.kafka.port}"

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

    def with_updates(self, **changes: Any) -> Settings:
        """A validated copy with fields replaced; a group is given as a dict of its changes.

        ``settings.with_updates(keyspace="t1", streaming={"max_offsets": 1000})``

        Raises:
            pydantic.ValidationError: A changed value is invalid or a field does not exist.

        """
        data = self.model_dump()
        for name, value in changes.items():
            data[name] = {**data[name], **value} if isinstance(value, dict) else value
        return type(self)(**data)

    def as_env(self) -> dict[str, str]:
        """These settings as ``DISCORECS_*`` variables (groups as ``DISCORECS_<GROUP>_<FIELD>``)."""
        env: dict[str, str] = {}
        for name, value in self.model_dump(mode="json", exclude_none=True).items():
            if isinstance(value, dict):
                for field, inner in value.items():
                    env[f"{ENV_PREFIX}{name}_{field}".upper()] = _env_text(inner)
            else:
                env[f"{ENV_PREFIX}{name}".upper()] = _env_text(value)
        return env

    def child_env(self) -> dict[str, str]:
        """Return the current environment plus these settings as ``DISCORECS_*`` variables.

        A ``discorecs`` child process started with it sees the same settings.
        """
        return {**os.environ, **self.as_env()}


def _env_text(value: Any) -> str:
    """A setting's value as the environment carries it (JSON for mappings and lists)."""
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def env_name(path: str) -> str:
    """The variable of a setting given as ``"group.field"`` or ``"field"``.

    Raises:
        KeyError: No such setting.

    """
    group, _, field = path.rpartition(".")
    model: type[BaseModel] = Settings
    if group:
        annotation = Settings.model_fields[group].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation
    if field not in model.model_fields:
        raise KeyError(f"no setting {path!r}")
    return f"{ENV_PREFIX}{path.replace('.', '_')}".upper()


def setting_default(path: str) -> Any:
    """The built-in default of a group's setting given as ``"group.field"``.

    Raises:
        KeyError: No such setting.

    """
    env_name(path)
    group, _, field = path.partition(".")
    return getattr(Settings.model_fields[group].default, field)


def load_settings(**overrides: Any) -> Settings:
    """Build :class:`Settings` from the environment, with explicit overrides on top."""
    return Settings(**overrides)
