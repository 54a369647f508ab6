"""The local cluster without Docker: Kafka (KRaft) and Cassandra 5 as background JVMs.

Each service renders its config from ``deployment/conf`` into ``.cluster/<service>/``, starts from
the jars Maven resolved into ``.jars/<kafka|cassandra>``, and is healthy only when it answers a
real request (a Kafka metadata request, a CQL query). Pid files record what this project
started, so ``down`` stops only that.

With ``Settings.nodes`` above one the cluster has that many Kafka brokers (each also a KRaft
controller: a quorum of all of them) and Cassandra nodes (one ring, the first node the seed),
node ``i`` on the loopback address ``127.0.0.i``, plus a Spark standalone master and workers
started from pyspark's own ``bin/spark-class``. Services are named ``kafka-1``, ...,
``cassandra-1``, ..., ``spark-master``, ``spark-worker-1``, ...; with one node, ``kafka`` and
``cassandra`` as before.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import time
import urllib.request
import uuid
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any, Literal
from urllib.parse import urlparse

from deployment.processes import (
    ClusterError,
    PidFile,
    alive,
    log_tail,
    port_open,
    require_java,
    rss_mb,
    spawn,
    stop,
    wait_port_closed,
)
from discorecs.core.logs import get_logger
from discorecs.core.settings import Settings, available_cores
from discorecs.core.topics import min_insync_replicas

CONF_DIR = Path(__file__).resolve().parent / "conf"

log = get_logger("cluster")


@dataclass(frozen=True)
class ServiceStatus:
    """What ``discorecs cluster status`` prints for one service."""

    name: str
    state: str
    pid: int | None
    port: int
    version: str | None
    healthy: bool
    rss_mb: float | None


class LocalService(ABC):
    """One service of the local cluster.

    Attributes:
        name: ``kafka``, ``cassandra-2``, ``spark-master`` ...: its folder, log and pid file.
        host: The address it binds.
        port: The client port the health check uses.
        other_ports: Ports it binds besides the client port.
        after: Services that must be healthy before this one starts (a Cassandra node joins
            the ring after the previous one; a Spark worker registers with the master).

    """

    jars_name = ""
    """Folder of ``.jars`` holding this service's jars."""

    def __init__(
        self,
        settings: Settings,
        name: str,
        host: str,
        port: int,
        *other_ports: int,
        after: tuple[str, ...] = (),
    ) -> None:
        self.settings = settings
        self.name = name
        self.host = host
        self.port = port
        self.other_ports = other_ports
        self.after = after
        self.home = settings.cluster_path / self.name
        self.log_path = settings.cluster_path / "logs" / f"{self.name}.log"
        self.marker = f"-Ddiscorecs.service={self.name}@{settings.cluster_path}"
        self.pid_file = PidFile(settings.cluster_path / "pids" / f"{self.name}.pid", self.marker)

    @abstractmethod
    def prepare(self) -> None:
        """Render config files and do one-time initialisation."""

    @abstractmethod
    def argv(self) -> list[str]:
        """The command line that runs the service in the foreground."""

    @abstractmethod
    def probe(self, timeout: float) -> str | None:
        """Ask the service a real question; return its version if healthy, else None."""

    def environment(self) -> dict[str, str] | None:
        """Environment of the process (None: this process's own)."""
        return None

    @property
    def jars(self) -> Path:
        """Folder of this service's jars."""
        return self.settings.jars_path / self.jars_name

    def classpath(self) -> str:
        """Classpath of every jar in :attr:`jars`."""
        if not any(self.jars.glob("*.jar")):
            raise ClusterError(f"{self.name}: no jars in {self.jars}; run `make jars` first")
        return f"{self.jars}/*"

    def render(self, template: str, target: Path, **values: object) -> Path:
        """Fill ``${name}`` placeholders of a file in ``deployment/conf`` into ``target``."""
        text = Template((CONF_DIR / template).read_text()).substitute(
            {key: str(value) for key, value in values.items()}
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def start(self) -> int:
        """Start the service in the background and return its pid (without waiting for health)."""
        self.prepare()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a") as handle:
            handle.write(f"\n==== discorecs start {time.strftime('%Y-%m-%dT%H:%M:%S')} ====\n")
        pid = spawn(self.argv(), self.log_path, cwd=self.home, env=self.environment())
        self.pid_file.write(pid)
        return pid

    def wait_healthy(self, pid: int | None, timeout: float) -> str:
        """Poll :meth:`probe` until healthy; return the version.

        Raises:
            ClusterError: If the process dies or ``timeout`` passes, with the tail of its log.

        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pid is not None and not alive(pid):
                self.pid_file.clear()
                raise self.failure("exited during start-up")
            if port_open(self.host, self.port):
                version = self.probe(timeout=5.0)
                if version:
                    return version
            time.sleep(0.5)
        raise self.failure(f"not healthy after {timeout:.0f}s")

    def failure(self, reason: str) -> ClusterError:
        """A :class:`ClusterError` naming the service, the reason and the tail of its log."""
        return ClusterError(
            f"{self.name} {reason} (port {self.port}); last lines of {self.log_path}:\n"
            f"{log_tail(self.log_path)}"
        )

    def status(self) -> ServiceStatus:
        """Current state, pid, port, version, health and RSS of the service."""
        pid = self.pid_file.read()
        version = self.probe(timeout=3.0) if port_open(self.host, self.port) else None
        if pid:
            state = "running" if version else "starting or unhealthy"
        else:
            state = "external" if version else "stopped"
        return ServiceStatus(
            self.name,
            state,
            pid,
            self.port,
            version,
            version is not None,
            rss_mb(pid) if pid else None,
        )


def node_name(settings: Settings, service: str, index: int) -> str:
    """``service`` alone with one node, else ``service-index``."""
    return service if settings.nodes == 1 else f"{service}-{index}"


class KafkaService(LocalService):
    """Kafka 4 broker + controller in one KRaft process (node ``index`` of ``settings.nodes``).

    Every node votes in the controller quorum; internal topics get ``min(3, nodes)`` replicas.
    """

    jars_name = "kafka"

    def __init__(self, settings: Settings, index: int = 1) -> None:
        self.index = index
        super().__init__(
            settings,
            node_name(settings, "kafka", index),
            settings.kafka_host(index),
            settings.kafka.port,
            settings.kafka.controller_port,
        )

    def prepare(self) -> None:
        """Write server.properties and format the KRaft storage once (one cluster id for all)."""
        kafka = self.settings.kafka
        data_dir = self.home / "data"
        voters = ",".join(
            f"{i}@{self.settings.kafka_host(i)}:{kafka.controller_port}"
            for i in range(1, self.settings.nodes + 1)
        )
        replicas = self.settings.replication_factor
        properties = self.render(
            "server.properties",
            self.home / "server.properties",
            node_id=self.index,
            voters=voters,
            host=self.host,
            port=self.port,
            controller_port=kafka.controller_port,
            data_dir=data_dir,
            partitions=kafka.partitions,
            replication_factor=replicas,
            min_insync_replicas=min_insync_replicas(replicas),
            session_timeout_ms=kafka.session_timeout_ms,
        )
        if (data_dir / "meta.properties").exists():
            return
        result = subprocess.run(
            [
                *self._java(CONF_DIR / "kafka-tools-log4j2.xml"),
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={self._cluster_id()}",
                "-c",
                str(properties),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise ClusterError(f"kafka storage format failed: {result.stderr.strip()[-2000:]}")

    def _cluster_id(self) -> str:
        """The KRaft cluster id of every broker (the setting, else one per cluster folder)."""
        if self.settings.kafka.cluster_id:
            return self.settings.kafka.cluster_id
        path = self.settings.cluster_path / "kafka-cluster-id"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode())
        return path.read_text().strip()

    def _java(self, log_config: Path) -> list[str]:
        heap = self.settings.kafka.heap
        return [
            str(self.settings.java_binary),
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log_config}",
            self.marker,
            "-cp",
            self.classpath(),
        ]

    def argv(self) -> list[str]:
        """``java ... kafka.Kafka server.properties``."""
        return [
            *self._java(CONF_DIR / "kafka-log4j2.xml"),
            "kafka.Kafka",
            str(self.home / "server.properties"),
        ]

    def probe(self, timeout: float) -> str | None:
        """A metadata request to this broker listing it as registered; version from the jars."""
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": f"{self.host}:{self.port}", "log_level": 0})
        try:
            metadata = admin.list_topics(timeout=timeout)
        except Exception:  # noqa: BLE001 - any failure means "not healthy yet"
            return None
        if self.index not in metadata.brokers:
            return None
        jar = next(self.jars.glob("kafka-clients-*.jar"), None)
        return jar.stem.removeprefix("kafka-clients-") if jar else "unknown"


class CassandraService(LocalService):
    """A Cassandra 5.0 node (node ``index`` of ``settings.nodes``; the first is the seed).

    Node ``i`` starts once node ``i - 1`` answers, so nodes join the ring one at a time.
    """

    jars_name = "cassandra"

    def __init__(self, settings: Settings, index: int = 1) -> None:
        self.index = index
        super().__init__(
            settings,
            node_name(settings, "cassandra", index),
            settings.cassandra_host(index),
            settings.cassandra.port,
            settings.cassandra.storage_port,
            after=(node_name(settings, "cassandra", index - 1),) if index > 1 else (),
        )

    @property
    def ring_delay_ms(self) -> int:
        """How long the node waits on gossip while joining.

        The seed alone needs no wait (start in ~10 s instead of ~40 s); a joining node must hear
        from the seed within it (its first shadow round), which can take seconds on a busy box.
        """
        return 100 if self.index == 1 else 5000

    @property
    def processors(self) -> int:
        """CPUs this process may run on: the JVM is told the same, so the write limit matches."""
        return available_cores()

    def prepare(self) -> None:
        """Write cassandra.yaml and create the data folders."""
        data_dir = self.home / "data"
        for sub in ("data", "commitlog", "saved_caches", "hints", "cdc_raw"):
            (data_dir / sub).mkdir(parents=True, exist_ok=True)
        cassandra = self.settings.cassandra
        self.render(
            "cassandra.yaml",
            self.home / "cassandra.yaml",
            seed=f"{self.settings.cassandra_host(1)}:{cassandra.storage_port}",
            host=self.host,
            port=self.port,
            storage_port=cassandra.storage_port,
            data_dir=data_dir,
            concurrent_writes=self.processors + 1,
            replication_factor=self.settings.replication_factor,
            commitlog_sync_period_ms=cassandra.commitlog_sync_period_ms,
        )

    def argv(self) -> list[str]:
        """``java <jvm17 options> -javaagent:jamm ... CassandraDaemon``."""
        jamm = next(self.jars.glob("jamm-*.jar"), None)
        if jamm is None:
            raise ClusterError(f"cassandra: no jamm agent jar in {self.jars}; run `make jars`")
        options = [
            line.strip()
            for line in (CONF_DIR / "jvm17-server.options").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        heap = self.settings.cassandra.heap
        return [
            str(self.settings.java_binary),
            f"-Xms{heap}",
            f"-Xmx{heap}",
            f"-XX:ActiveProcessorCount={self.processors}",
            *options,
            f"-javaagent:{jamm}",
            "-Dcassandra-foreground=yes",
            f"-Dcassandra.config=file://{self.home / 'cassandra.yaml'}",
            f"-Dcassandra.storagedir={self.home / 'data'}",
            f"-Dcassandra.logdir={self.log_path.parent}",
            f"-Dlogback.configurationFile={CONF_DIR / 'logback.xml'}",
            "-Dcassandra.skip_wait_for_gossip_to_settle=0",
            "-Dcassandra.superuser_setup_delay_ms=0",
            f"-Dcassandra.ring_delay_ms={self.ring_delay_ms}",
            f"-Duser.home={self.home}",
            self.marker,
            "-cp",
            self.classpath(),
            "org.apache.cassandra.service.CassandraDaemon",
        ]

    def probe(self, timeout: float) -> str | None:
        """``SELECT release_version FROM system.local`` over CQL."""
        from discorecs.core.cassandra import new_cluster

        driver_log = logging.getLogger("cassandra")
        level = driver_log.level
        driver_log.setLevel(logging.CRITICAL)
        cluster = new_cluster(self.settings, connect_timeout=timeout, only_host=self.host)
        try:
            session = cluster.connect()
            query = session.prepare("SELECT release_version FROM system.local")
            row = session.execute(query, timeout=timeout).one()
            return row.release_version if row else None
        except Exception:  # noqa: BLE001 - any failure means "not healthy yet"
            return None
        finally:
            cluster.shutdown()
            driver_log.setLevel(level)


class SparkDaemon(LocalService):
    """A Spark standalone daemon started by pyspark's own ``bin/spark-class``, bound to loopback.

    Its health is what the master's ``/json`` page says (the master ALIVE, a worker listed
    ALIVE at its web UI address).
    """

    daemon_class = ""

    def prepare(self) -> None:
        """Create the daemon's folder (its work and conf folders live there)."""
        (self.home / "conf").mkdir(parents=True, exist_ok=True)

    @property
    def spark_home(self) -> Path:
        """The pyspark install: ``bin/spark-class`` and ``jars/`` of the jobs' own Spark."""
        import pyspark

        return Path(pyspark.__file__).parent

    def environment(self) -> dict[str, str]:
        """SPARK_HOME, loopback, the daemon heap and the marker that proves the pid is ours."""
        spark = self.settings.spark
        env = {
            **os.environ,
            "SPARK_HOME": str(self.spark_home),
            "SPARK_CONF_DIR": str(self.home / "conf"),
            "SPARK_LOCAL_IP": spark.host,
            "SPARK_DAEMON_MEMORY": spark.daemon_heap,
            "SPARK_DAEMON_JAVA_OPTS": (
                f"{self.marker} -Dspark.worker.timeout={spark.worker_timeout_s}"
            ),
        }
        if self.settings.java_home:
            env["JAVA_HOME"] = str(self.settings.java_home)
        return env

    def spark_class(self, *args: object) -> list[str]:
        """``bin/spark-class <daemon class> args...``."""
        return [str(self.spark_home / "bin" / "spark-class"), self.daemon_class, *map(str, args)]

    def master_json(self, timeout: float) -> dict[str, Any] | None:
        """The master's ``/json`` status page, None when it does not answer."""
        host = urlparse(self.settings.spark_master_url).hostname or self.settings.spark.host
        url = f"http://{host}:{self.settings.spark.master_ui_port}/json/"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                answer: dict[str, Any] = json.load(response)
                return answer
        except (OSError, ValueError):
            return None

    @property
    def version(self) -> str:
        """The Spark version of pyspark's jars."""
        import pyspark

        return pyspark.__version__


class SparkMasterService(SparkDaemon):
    """The Spark standalone master; its web UI (loopback only) serves the health page."""

    daemon_class = "org.apache.spark.deploy.master.Master"

    def __init__(self, settings: Settings) -> None:
        spark = settings.spark
        super().__init__(
            settings, "spark-master", spark.host, spark.master_port, spark.master_ui_port
        )

    def argv(self) -> list[str]:
        """``spark-class ...Master --host --port --webui-port``."""
        spark = self.settings.spark
        return self.spark_class(
            "--host", spark.host, "--port", spark.master_port, "--webui-port", spark.master_ui_port
        )

    def probe(self, timeout: float) -> str | None:
        """The master reports itself ALIVE."""
        status = self.master_json(timeout)
        return self.version if status and status.get("status") == "ALIVE" else None


class SparkWorkerService(SparkDaemon):
    """Spark standalone worker ``index``: ``worker_cores`` cores and ``worker_memory``.

    Its RPC port is picked at random (a worker restarted after a crash registers as a new
    worker at once, instead of being refused until the master forgets the old one); the web UI
    port is fixed, and identifies it in the master's list.
    """

    daemon_class = "org.apache.spark.deploy.worker.Worker"

    def __init__(self, settings: Settings, index: int) -> None:
        spark = settings.spark
        super().__init__(
            settings,
            f"spark-worker-{index}",
            spark.host,
            spark.worker_ui_port + index - 1,
            after=("spark-master",),
        )

    def argv(self) -> list[str]:
        """``spark-class ...Worker spark://master --host --webui-port --cores --memory``."""
        spark = self.settings.spark
        return self.spark_class(
            self.settings.spark_master_url,
            *("--host", spark.host, "--webui-port", self.port),
            *("--cores", spark.worker_cores, "--memory", spark.worker_memory),
            *("--work-dir", self.home / "work"),
        )

    def probe(self, timeout: float) -> str | None:
        """The master lists this worker (by its web UI address) as ALIVE."""
        return self.version if self.listed_alive(self.master_json(timeout)) else None

    def listed_alive(self, status: dict[str, Any] | None) -> bool:
        """Whether the master's status page lists this worker (by web UI address) as ALIVE."""
        workers = status.get("workers", []) if status else []
        address = f"http://{self.host}:{self.port}"
        return any(
            isinstance(worker, dict)
            and worker.get("webuiaddress") == address
            and worker.get("state") == "ALIVE"
            for worker in workers
        )


def services(settings: Settings) -> list[LocalService]:
    """The services of the local cluster, in start order.

    One node: Kafka, then Cassandra. More: every Kafka broker (a KRaft quorum needs a majority
    up, so they start together), the Spark master, the Cassandra seed, the Spark workers, then
    the other Cassandra nodes one by one.
    """
    if settings.nodes == 1:
        return [KafkaService(settings), CassandraService(settings)]
    nodes = range(1, settings.nodes + 1)
    return [
        *(KafkaService(settings, i) for i in nodes),
        SparkMasterService(settings),
        CassandraService(settings, 1),
        *(SparkWorkerService(settings, i) for i in range(1, settings.spark.workers + 1)),
        *(CassandraService(settings, i) for i in nodes[1:]),
    ]


def run_foreground(settings: Settings, name: str) -> None:
    """Prepare one service and replace this process with it (a container's main process).

    The pid file records this pid, which the service keeps, so ``cluster status`` sees it.

    Raises:
        ClusterError: No such service in this topology, or the wrong Java.

    """
    chosen = [svc for svc in services(settings) if svc.name == name]
    if not chosen:
        raise ClusterError(f"no service {name!r}; known: {', '.join(service_names(settings))}")
    svc = chosen[0]
    require_java(settings.java_binary)
    svc.prepare()
    svc.home.mkdir(parents=True, exist_ok=True)
    os.chdir(svc.home)
    svc.pid_file.write(os.getpid())
    argv = svc.argv()
    os.execvpe(argv[0], argv, svc.environment() or dict(os.environ))


def service_names(settings: Settings) -> list[str]:
    """Names of the services of the configured topology, in start order."""
    return [svc.name for svc in services(settings)]


def start_steps(
    chosen: Sequence[LocalService], to_start: Collection[str]
) -> list[tuple[Literal["start", "wait"], str]]:
    """The order in which :func:`up` starts services and waits for them to be healthy.

    A service in ``to_start`` starts after waiting for those of its
    :attr:`~LocalService.after` that come before it in ``chosen``; the others are already
    running. Every service is waited for once, the ones nobody waited on at the end.

    Args:
        chosen: The services, in start order.
        to_start: Names of those that are not running.

    Returns:
        ``("start", name)`` and ``("wait", name)`` steps, in order.

    """
    steps: list[tuple[Literal["start", "wait"], str]] = []
    seen: list[str] = []
    waited: set[str] = set()
    for svc in chosen:
        if svc.name in to_start:
            for name in svc.after:
                if name in seen and name not in waited:
                    steps.append(("wait", name))
                    waited.add(name)
            steps.append(("start", svc.name))
        seen.append(svc.name)
    steps += [("wait", name) for name in seen if name not in waited]
    return steps


def up(settings: Settings, names: tuple[str, ...] = ()) -> list[ServiceStatus]:
    """Start what is not running and wait until every service answers.

    A healthy service already on its port is reused, whoever started it. A port held by
    something that is not the expected service is an error, as is a Java other than 17. A
    service with :attr:`LocalService.after` starts once those (when started here) answer.

    Args:
        settings: Ports, folders, heaps and the node count.
        names: Only these services (all when empty).

    Returns:
        The status of each service once healthy.

    Raises:
        ClusterError: Naming the failed service, with the tail of its log.

    """
    chosen = [s for s in services(settings) if not names or s.name in names]
    pids: dict[str, int | None] = {}
    for svc in chosen:
        pid = svc.pid_file.read()
        if pid is None and port_open(svc.host, svc.port):
            if svc.probe(timeout=5.0):
                log.info("reuse", service=svc.name, port=svc.port, owner="external")
                pids[svc.name] = None
                continue
            raise ClusterError(
                f"{svc.name}: port {svc.host}:{svc.port} is taken by another process that is "
                f"not a healthy {svc.name}; stop it or change its port setting"
            )
        if pid is None:
            require_java(settings.java_binary)
            for port in (svc.port, *svc.other_ports):
                if port_open(svc.host, port):
                    raise ClusterError(f"{svc.name}: port {port} is taken by another process")
        else:
            log.info("reuse", service=svc.name, pid=pid, port=svc.port, owner="discorecs")
            pids[svc.name] = pid
    by_name = {svc.name: svc for svc in chosen}
    since = dict.fromkeys(pids, time.monotonic())
    for action, name in start_steps(chosen, {svc.name for svc in chosen} - set(pids)):
        svc = by_name[name]
        if action == "start":
            pids[name] = svc.start()
            since[name] = time.monotonic()
            log.info("starting", service=name, pid=pids[name], port=svc.port, log=svc.log_path)
        else:
            version = svc.wait_healthy(pids[name], settings.startup_timeout_s)
            log.info(
                "healthy", service=name, version=version, seconds=time.monotonic() - since[name]
            )
    return [svc.status() for svc in chosen]


def down(settings: Settings, names: tuple[str, ...] = (), kill: bool = False) -> list[str]:
    """Stop the services this project started (by pid file), all at once.

    Together, because the last brokers of a KRaft quorum stopped one by one would wait for a
    quorum that is gone. Without ``names``, any other process a pid file of this cluster
    folder still records (say, nodes of a bigger topology than ``settings.nodes``) is stopped
    with them.

    Args:
        settings: Where the pid files are.
        names: Only these services (all when empty).
        kill: SIGKILL at once instead of a graceful SIGTERM (fault tests).

    Returns:
        Names of the services that were stopped, in reverse start order.

    """
    import signal
    from concurrent.futures import ThreadPoolExecutor

    sig = signal.SIGKILL if kill else signal.SIGTERM
    targets: list[tuple[str, int, PidFile, tuple[str, int] | None]] = [
        (svc.name, pid, svc.pid_file, (svc.host, svc.port))
        for svc in reversed(services(settings))
        if (not names or svc.name in names) and (pid := svc.pid_file.read()) is not None
    ]
    if not names:
        targets += _leftovers(settings, set(service_names(settings)))

    def stop_one(name: str, pid: int, pid_file: PidFile, address: tuple[str, int] | None) -> str:
        stop(pid, sig=sig)
        if address is not None:
            wait_port_closed(*address)
        pid_file.clear()
        log.info("stopped", service=name, pid=pid, signal=sig.name)
        return name

    with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:
        return list(pool.map(lambda target: stop_one(*target), targets))


def _leftovers(settings: Settings, known: set[str]) -> list[tuple[str, int, PidFile, None]]:
    """Running processes recorded by pid files of this cluster folder outside ``known``.

    The pid files of processes no longer running are cleared.
    """
    found: list[tuple[str, int, PidFile, None]] = []
    for path in sorted((settings.cluster_path / "pids").glob("*.pid"), reverse=True):
        if path.stem in known:
            continue
        pid_file = PidFile(path, f"-Ddiscorecs.service={path.stem}@{settings.cluster_path}")
        pid = pid_file.read()
        if pid is None:
            pid_file.clear()
        else:
            found.append((path.stem, pid, pid_file, None))
    return found


def status(settings: Settings, names: Sequence[str] = ()) -> list[ServiceStatus]:
    """The status of every service, or of those named (only they are probed)."""
    return [svc.status() for svc in services(settings) if not names or svc.name in names]
