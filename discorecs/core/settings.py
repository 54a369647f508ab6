"""Typed settings for every discorecs component, read once from ``DISCORECS_*`` variables.

Nothing else in the project reads ``os.environ``: components take a :class:`Settings` object.
Connection and tuning settings live in nested groups; a group's field is the variable
``DISCORECS_<GROUP>_<FIELD>`` (``DISCORECS_KAFKA_PORT``, ``DISCORECS_STREAMING_MAX_OFFSETS``).
An unknown field of a group, in the environment or in code, is an error, so a typo there fails
loudly instead of falling back to a default. The defaults fit the local cluster that
``discorecs cluster up`` starts on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from discorecs.core.topics import TOPIC_NAMES

ENV_PREFIX = "DISCORECS_"
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_CHECKOUT = Path(__file__).resolve().parents[2]


Consistency = Literal[
    "ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_QUORUM", "EACH_QUORUM", "LOCAL_ONE"
]
"""A Cassandra consistency level, by the name both the driver and the connector use.

Not ``ANY``: reads cannot use it, and a write it acknowledges may live only as a hint.
"""

OVERLAPPING = frozenset({"QUORUM", "LOCAL_QUORUM", "EACH_QUORUM", "ALL"})
"""Levels whose reads meet every write also made at one of them: with more than one node the
stream's durability barrier and the hourly snapshot rely on it (a user staged by a write that
one replica took could be missed by the read that then deletes the staging row)."""

Port = Annotated[int, Field(ge=1, le=65535)]


def _default_root() -> Path:
    """The source checkout for an editable install, else the current directory."""
    return _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else Path.cwd()


def available_cores() -> int:
    """The CPUs this process may run on: the default of every thread and process count.

    All of the machine's, unless a cpuset or ``taskset`` narrows the process's affinity.
    """
    return len(os.sched_getaffinity(0))


class SettingsError(ValueError):
    """Settings that are each valid but cannot work together; the message names the settings."""


class Group(BaseModel):
    """A nested settings group: frozen, unknown keys rejected, no negative number."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _no_negative_numbers(self) -> Group:
        for name, value in self:
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")
        return self


class KafkaSettings(Group):
    """Where the brokers listen and how topics are laid out.

    With several nodes, broker ``i`` (from 1) listens on ``host`` plus ``i - 1`` (127.0.0.1,
    127.0.0.2, ...: on Linux the whole of 127/8 is loopback), on the same ports.
    """

    host: str = Field("127.0.0.1", description="Address of the first broker.")
    port: Port = 9092
    controller_port: Port = 9093
    heap: str = "512m"
    partitions: int = Field(4, description="Partitions of each pipeline topic.")
    bootstrap_servers: str | None = Field(
        None,
        description="host:port of each broker, comma-separated, in node order (default: "
        "every node's host:port); the launcher starts broker i on the i-th host.",
    )
    cluster_id: str | None = Field(
        None, description="KRaft cluster id (default: generated once per cluster folder)."
    )
    session_timeout_ms: int = Field(
        9000, description="broker.session.timeout.ms: a silent broker is fenced after this."
    )


class CassandraSettings(Group):
    """Where the Cassandra nodes listen and how the application reads and writes.

    With several nodes, node ``i`` (from 1) listens on ``host`` plus ``i - 1``, on the same ports;
    the first node is the seed.
    """

    host: str = Field("127.0.0.1", description="Address of the first node (the seed).")
    port: Port = 9042
    storage_port: Port = 7000
    heap: str = "1g"
    request_timeout_s: float = Field(60.0, gt=0)
    contact_points: str | None = Field(
        None,
        description="Host of each node, comma-separated, in node order (default: every "
        "node's host; no port, that is cassandra.port); the driver starts from them, the "
        "launcher starts node i on the i-th.",
    )
    consistency: Consistency = Field(
        "QUORUM", description="Consistency level of every driver read and write."
    )
    commitlog_sync_period_ms: int = Field(
        50,
        description="commitlog_sync_period of the launched nodes: the commit log is synced this "
        "often; the stream's durability barrier waits 1.2 x 1.5 periods a micro-batch.",
    )


class SparkSettings(Group):
    """The Spark session of the stream and the hourly job, and the standalone cluster's layout.

    With one node the jobs run in ``local[2]``; with more, ``cluster up`` starts a standalone
    master and ``workers`` workers (pyspark's own ``bin/spark-class``) and the jobs are submitted
    to it, each taking ``cores_max`` cores in executors of ``executor_cores``.
    """

    master: str | None = Field(
        None, description="Spark master URL (default: local[2], or the standalone master)."
    )
    host: str = Field(
        "127.0.0.1",
        description="Address the master (and, unless spark.master says "
        "otherwise, the workers' master URL) and the workers bind.",
    )
    driver_host: str = Field("127.0.0.1", description="Address executors reach the driver at.")
    driver_bind_address: str = Field("127.0.0.1", description="Address the driver binds.")
    master_port: Port = 7077
    master_ui_port: Port = Field(8080, description="Master web UI (its /json is the health check).")
    worker_ui_port: Port = Field(8081, description="Web UI of worker 1; worker i uses + i - 1.")
    workers: int = Field(2, description="Standalone workers (with more than one node).")
    worker_cores: int = Field(2, description="Cores each worker offers (SPARK_WORKER_CORES).")
    worker_memory: str = Field("1g", description="Memory each worker offers to executors.")
    daemon_heap: str = Field("256m", description="Heap of the master and worker daemons.")
    worker_timeout_s: int = Field(
        10, description="spark.worker.timeout: the master drops a silent worker after this."
    )
    executor_memory: str = Field("512m", description="spark.executor.memory (standalone).")
    executor_cores: int = Field(1, ge=1, description="spark.executor.cores (standalone).")
    cores_max: int = Field(
        2, ge=1, description="spark.cores.max: cores one job takes, so the stream and hourly share."
    )
    input_consistency: Consistency = Field(
        "QUORUM", description="spark.cassandra.input.consistency.level"
    )
    output_consistency: Consistency = Field(
        "QUORUM", description="spark.cassandra.output.consistency.level"
    )
    driver_memory: str = "2g"
    shuffle_partitions: int = 4
    class_archive: bool = Field(
        True,
        description="The stream's driver JVM maps a class-data-sharing archive of its classes "
        "(written by the first run, in class_archive_dir): a faster cold start.",
    )
    class_archive_dir: Path | None = Field(
        None, description="Where the class-data archives live (default <cluster>/class-archives)."
    )
    connector_concurrent_writes: int = Field(
        16, description="spark.cassandra.output.concurrent.writes"
    )
    connector_batch_bytes: int = Field(16384, description="spark.cassandra.output.batch.size.bytes")
    connector_fetch_rows: int = Field(
        5000,
        ge=1,
        description="spark.cassandra.input.fetch.sizeInRows: rows a page of a table read. The "
        "connector's 1 000 read 1M users' 19M owned pairs in 40-41 s, 5 000 in 33-34 s.",
    )
    connector_row_batch: int = Field(
        8,
        ge=1,
        description="Rows per batch written to a table whose partition is one row (grouped by "
        "replica set; the concurrent writes divided by it). 1: a request a row.",
    )


class StreamingSettings(Group):
    """The Structured Streaming job (``discorecs stream``)."""

    max_offsets: int = Field(200_000, gt=0, description="maxOffsetsPerTrigger: records per batch.")
    first_offsets: int = Field(
        10_000,
        description="maxOffsetsPerTrigger until a process's first micro-batch with records is "
        "written, then the query restarts with max_offsets (0: max_offsets from the start). "
        "A stream started on a backlog pays its cold JVM's first jobs on few records.",
    )
    trigger_seconds: float = Field(0.0, description="Seconds between batches (0: back to back).")
    retry_seconds: float = Field(10.0, description="Wait before restarting a failed query.")
    batch_timeout_s: float = Field(
        180.0, gt=0, description="A micro-batch running longer ends the stream process (exit 75)."
    )
    catch_up_max_failures: int = Field(3, description="Failures a catch-up run gives up after.")
    collection_concurrency: int = Field(64, gt=0, description="Collection batches in flight.")
    durability_barrier: bool = Field(
        True,
        description="After each micro-batch, wait until Cassandra's periodic commit log sync "
        "covers its writes before committing it (about 1.2 sync lag blocks, 0.18 s at the "
        "launched 100 ms period). Off, a kill -9 of a Cassandra node can take back the last "
        "lag block of acknowledged writes of a committed batch; for measuring its cost only.",
    )


class ScoringSettings(Group):
    """The hourly scoring rules and their tuning."""

    neighbours: int = Field(
        10,
        gt=0,
        le=13,
        description="k nearest neighbours per user (at most 13: a candidate's score, the sum "
        "of its owners' similarities, is packed into the ranking key up to 13.1).",
    )
    list_length: int = Field(10, gt=0, description="Recommendations per user.")
    recall_sample: int = Field(1000, description="Users in the ANN recall@1 check.")
    friend_prior: float = Field(
        1.0,
        description="The friend is the one of the k nearest with the best similarity * n / "
        "(n + friend_prior), n its collection size (0: simply the nearest).",
    )
    trending_hours: int = Field(24, description="Window of the trending counts.")
    fallback_depth: int = Field(200, description="Length of the popular fallback lists.")
    staging_margin_s: float = Field(
        10.0, description="Staged rows written this shortly before the read stay staged."
    )
    ann_m: int = 16
    ann_ef_construction: int = 40
    ann_ef_search: int = Field(
        32,
        description="efSearch of the taste index. At 1M users (bench_scoring.py's world) 32 "
        "finds the exact 10 nearest 99.4 % of the time and the nearest 99.8 %, against 99.8 % "
        "and 99.97 % at 64, in half the search time.",
    )
    ann_threads: int = Field(
        default_factory=available_cores,
        ge=1,
        description="Threads building and searching the taste index (faiss's OpenMP; default: "
        "the CPUs available to this process).",
    )
    ann_stale_share: float = Field(
        0.2,
        ge=0.0,
        lt=1.0,
        description="Share of the taste index's vectors that no user holds any more above which "
        "the hourly job builds the index anew instead of extending the last run's.",
    )
    list_threads: int = Field(
        default_factory=available_cores,
        ge=1,
        description="Threads listing the hybrid's top-n at once in the hourly job (default: "
        "the CPUs available); the lists are the same for any number.",
    )
    cold_items: int = Field(
        3,
        description="Users with this many items or fewer are cold: the hourly job reads their "
        "activity even when content_activity_weight is 0.",
    )
    content_activity_weight: float = Field(
        1.0,
        description="Weight of a viewed, played or wanted release in the content profile, "
        "relative to an owned one (0: activity only for users with no items). The hourly job "
        "reads the activity of every user whose list it writes when it is above 0.",
    )
    calibration: float = Field(
        0.3,
        le=1.0,
        description="Strength of the calibrated re-rank (0: none; chosen by `discorecs evaluate "
        "--tune --seeds 1`: the weakest that halves C_KL within 3 % NDCG).",
    )
    hybrid_depth: int = Field(30, description="Items each of the hybrid's sources lists.")
    hybrid_rerank_depth: int = Field(
        50, description="The hybrid's best-ranked candidates the calibrated re-rank chooses from."
    )
    hybrid_threads: int = Field(
        default_factory=available_cores,
        ge=1,
        description="Threads of the hybrid's ranking model (default: the CPUs available).",
    )
    numpy_huge_pages: bool = Field(
        False,
        description="Whether numpy asks for transparent huge pages for its large arrays in "
        "the hourly job and the evaluation (off: where the kernel compacts memory for them on "
        "the spot, the hybrid's fit spent a quarter of its CPU in page faults).",
    )
    hybrid_model_hours: float = Field(
        24.0,
        description="Hours the hourly job reuses its newest learnt ranking model "
        "(`ranking_models`) before learning it again (0: every run).",
    )
    item_model_hours: float = Field(
        24.0,
        description="Hours the hourly job restores its last fit of the hybrid's item-to-item "
        "source (EASE; saved beside its snapshot) before fitting it again (0: every run).",
    )
    snapshot_hours: float = Field(
        24.0,
        description="Hours the hourly job trusts its snapshot of the last finished run before "
        "reading `users_scored` and `user_collection` whole again (0: every run).",
    )
    rank_tolerance: int = Field(
        1,
        ge=0,
        description="Percentile points the stored genre rank of a user who was not rescored may "
        "drift from the current one before the hourly job rewrites it (0: every move).",
    )


class LoaderSettings(Group):
    """The Discogs release loader (``discorecs parse releases``)."""

    workers: int = Field(
        default_factory=available_cores,
        description="Parser processes, the reading one included (default: the CPUs available "
        "to this process).",
    )
    block_bytes: int = Field(
        1 << 20, description="Decompressed XML bytes a parser process takes at a time."
    )
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
    port: Port = 8000
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
    snapshot_dir: Path | None = Field(None, description="The hourly job's last-run snapshot.")
    java_home: Path | None = Field(
        None,
        validation_alias=AliasChoices("DISCORECS_JAVA_HOME", "JAVA_HOME", "java_home"),
        description="Java 17 home; falls back to `java` on PATH.",
    )
    keyspace: str = "discorecs"
    topic_prefix: str = Field("", description="Prefix of every topic name (tests isolate with it).")
    startup_timeout_s: float = Field(180.0, gt=0)
    nodes: int = Field(
        1,
        ge=1,
        description="Cassandra and Kafka nodes (replication min(3, nodes)); more than one adds "
        "a Spark standalone master and workers.",
    )

    kafka: KafkaSettings = KafkaSettings()
    cassandra: CassandraSettings = CassandraSettings()
    spark: SparkSettings = SparkSettings()
    streaming: StreamingSettings = StreamingSettings()
    scoring: ScoringSettings = ScoringSettings()
    loader: LoaderSettings = LoaderSettings()
    producer: ProducerSettings = ProducerSettings()
    api: ApiSettings = ApiSettings()

    @field_validator(
        "root", "cluster_dir", "jars_dir", "checkpoint_dir", "snapshot_dir", "java_home"
    )
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        """Folders as absolute paths: services started in their own folder get them too."""
        return value.expanduser().absolute() if value is not None else None

    @field_validator("keyspace")
    @classmethod
    def _keyspace_is_identifier(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(f"keyspace {value!r} must match {_IDENTIFIER.pattern}")
        return value

    @model_validator(mode="after")
    def _reads_meet_writes(self) -> Settings:
        """With more than one node, every consistency level is one of :data:`OVERLAPPING`."""
        if self.nodes > 1:
            levels = {
                "cassandra.consistency": self.cassandra.consistency,
                "spark.input_consistency": self.spark.input_consistency,
                "spark.output_consistency": self.spark.output_consistency,
            }
            for name, level in levels.items():
                if level not in OVERLAPPING:
                    raise ValueError(
                        f"{name}={level} with {self.nodes} nodes: reads would miss writes; "
                        f"use one of {', '.join(sorted(OVERLAPPING))}"
                    )
        return self

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
    def snapshot_path(self) -> Path:
        """Folder of the hourly job's snapshot of its last finished run (one per keyspace)."""
        return self.snapshot_dir or self.cluster_path / "snapshots" / self.keyspace

    @property
    def replication_factor(self) -> int:
        """Copies of each Cassandra row and Kafka record: ``min(3, nodes)``."""
        return min(3, self.nodes)

    def _node_host(self, listed: str | None, first: str, index: int) -> str:
        """Host of node ``index`` (from 1): the i-th of ``listed``, else ``first`` + i - 1.

        Raises:
            SettingsError: ``listed`` names fewer than ``index`` hosts, or ``first`` is not an IP
                address and there is more than one node.

        """
        if listed:
            hosts = listed.split(",")
            if len(hosts) < index:
                raise SettingsError(
                    f"{listed!r} lists {len(hosts)} hosts, but {self.nodes} nodes are set: list "
                    "one a node (kafka.bootstrap_servers, cassandra.contact_points)"
                )
            return hosts[index - 1].strip()
        if index == 1:
            return first
        try:
            return str(ipaddress.ip_address(first) + index - 1)
        except ValueError as error:
            raise SettingsError(
                f"{first!r} is not an IP address: with {self.nodes} nodes set the host to one "
                "or list the nodes (kafka.bootstrap_servers, cassandra.contact_points)"
            ) from error

    def kafka_host(self, index: int) -> str:
        """Host of Kafka node ``index`` (from 1)."""
        servers = self.kafka.bootstrap_servers
        listed = (
            ",".join(s.strip().rsplit(":", 1)[0] for s in servers.split(",")) if servers else None
        )
        return self._node_host(listed, self.kafka.host, index)

    def cassandra_host(self, index: int) -> str:
        """Host of Cassandra node ``index`` (from 1); node 1 is the seed."""
        return self._node_host(self.cassandra.contact_points, self.cassandra.host, index)

    @property
    def kafka_bootstrap(self) -> str:
        """``host:port,...`` of every Kafka broker's client listener."""
        if self.kafka.bootstrap_servers:
            return self.kafka.bootstrap_servers
        return ",".join(f"{self.kafka_host(i)}:{self.kafka.port}" for i in range(1, self.nodes + 1))

    @property
    def cassandra_hosts(self) -> list[str]:
        """The addresses the Cassandra driver and the connector start from."""
        if self.cassandra.contact_points:
            return [h.strip() for h in self.cassandra.contact_points.split(",") if h.strip()]
        return [self.cassandra_host(i) for i in range(1, self.nodes + 1)]

    @property
    def spark_master_url(self) -> str:
        """``spark.master``: the setting, else the standalone master with more than one node."""
        if self.spark.master:
            return self.spark.master
        if self.nodes > 1:
            return f"spark://{self.spark.host}:{self.spark.master_port}"
        return "local[2]"

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
