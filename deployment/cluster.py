"""The local cluster without Docker: Kafka (KRaft) and Cassandra 5 as background JVMs.

Each service renders its config from ``deployment/conf`` into ``.cluster/<service>/``, starts from
the jars Maven resolved into ``.jars/<service>``, and is healthy only when it answers a real
request (a Kafka metadata request, a CQL query). Pid files record what this project started, so
``down`` stops only that.
"""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from string import Template

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
from discorecs.core.settings import Settings

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
        host: The address it binds.
        port: The client port the health check uses.
        other_ports: Ports it binds besides the client port.

    """

    name: str

    def __init__(self, settings: Settings, host: str, port: int, *other_ports: int) -> None:
        self.settings = settings
        self.host = host
        self.port = port
        self.other_ports = other_ports
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

    @property
    def jars(self) -> Path:
        """Folder of this service's jars."""
        return self.settings.jars_path / self.name

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
        pid = spawn(self.argv(), self.log_path, cwd=self.home)
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


class KafkaService(LocalService):
    """Kafka 4 broker + controller in one KRaft process."""

    name = "kafka"

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            settings, settings.kafka.host, settings.kafka.port, settings.kafka.controller_port
        )

    def prepare(self) -> None:
        """Write server.properties and format the KRaft storage once."""
        data_dir = self.home / "data"
        properties = self.render(
            "server.properties",
            self.home / "server.properties",
            host=self.settings.kafka.host,
            port=self.port,
            controller_port=self.settings.kafka.controller_port,
            data_dir=data_dir,
            partitions=self.settings.kafka.partitions,
        )
        if (data_dir / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        result = subprocess.run(
            [
                *self._java(CONF_DIR / "kafka-tools-log4j2.xml"),
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={cluster_id}",
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
        """A metadata request that lists at least one broker; the version comes from the jars."""
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.settings.kafka_bootstrap, "log_level": 0})
        try:
            metadata = admin.list_topics(timeout=timeout)
        except Exception:  # noqa: BLE001 - any failure means "not healthy yet"
            return None
        if not metadata.brokers:
            return None
        jar = next(self.jars.glob("kafka-clients-*.jar"), None)
        return jar.stem.removeprefix("kafka-clients-") if jar else "unknown"


class CassandraService(LocalService):
    """A single Cassandra 5.0 node."""

    name = "cassandra"

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            settings,
            settings.cassandra.host,
            settings.cassandra.port,
            settings.cassandra.storage_port,
        )

    @property
    def processors(self) -> int:
        """CPUs this process may run on: the JVM is told the same, so the write limit matches."""
        return len(os.sched_getaffinity(0))

    def prepare(self) -> None:
        """Write cassandra.yaml and create the data folders."""
        data_dir = self.home / "data"
        for sub in ("data", "commitlog", "saved_caches", "hints", "cdc_raw"):
            (data_dir / sub).mkdir(parents=True, exist_ok=True)
        self.render(
            "cassandra.yaml",
            self.home / "cassandra.yaml",
            host=self.settings.cassandra.host,
            port=self.port,
            storage_port=self.settings.cassandra.storage_port,
            data_dir=data_dir,
            concurrent_writes=self.processors + 1,
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
            "-Dcassandra.ring_delay_ms=100",
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
        cluster = new_cluster(self.settings, connect_timeout=timeout)
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


def services(settings: Settings) -> list[LocalService]:
    """The services of the local cluster, in start order."""
    return [KafkaService(settings), CassandraService(settings)]


def up(settings: Settings, names: tuple[str, ...] = ()) -> list[ServiceStatus]:
    """Start what is not running and wait until every service answers.

    A healthy service already on its port is reused, whoever started it. A port held by
    something that is not the expected service is an error, as is a Java other than 17.

    Args:
        settings: Ports, folders and heaps.
        names: Only these services (all when empty).

    Returns:
        The status of each service once healthy.

    Raises:
        ClusterError: Naming the failed service, with the tail of its log.

    """
    chosen = [s for s in services(settings) if not names or s.name in names]
    started: list[tuple[LocalService, int | None, float]] = []
    for svc in chosen:
        pid = svc.pid_file.read()
        if pid is None and port_open(svc.host, svc.port):
            if svc.probe(timeout=5.0):
                log.info("reuse", service=svc.name, port=svc.port, owner="external")
                started.append((svc, None, time.monotonic()))
                continue
            raise ClusterError(
                f"{svc.name}: port {svc.port} is taken by another process that is not a "
                f"healthy {svc.name}; stop it or set DISCORECS_{svc.name.upper()}_PORT"
            )
        if pid is None:
            require_java(settings.java_binary)
            for port in (svc.port, *svc.other_ports):
                if port_open(svc.host, port):
                    raise ClusterError(f"{svc.name}: port {port} is taken by another process")
            pid = svc.start()
            log.info("starting", service=svc.name, pid=pid, port=svc.port, log=svc.log_path)
        else:
            log.info("reuse", service=svc.name, pid=pid, port=svc.port, owner="discorecs")
        started.append((svc, pid, time.monotonic()))
    for svc, pid, since in started:
        version = svc.wait_healthy(pid, settings.startup_timeout_s)
        log.info("healthy", service=svc.name, version=version, seconds=time.monotonic() - since)
    return [svc.status() for svc in chosen]


def down(settings: Settings, names: tuple[str, ...] = (), kill: bool = False) -> list[str]:
    """Stop the services this project started (by pid file), in reverse start order.

    Args:
        settings: Where the pid files are.
        names: Only these services (all when empty).
        kill: SIGKILL at once instead of a graceful SIGTERM (fault tests).

    Returns:
        Names of the services that were stopped.

    """
    import signal

    stopped = []
    for svc in reversed(services(settings)):
        if names and svc.name not in names:
            continue
        pid = svc.pid_file.read()
        if pid is None:
            continue
        stop(pid, sig=signal.SIGKILL if kill else signal.SIGTERM)
        wait_port_closed(svc.host, svc.port)
        svc.pid_file.clear()
        log.info("stopped", service=svc.name, pid=pid, signal="KILL" if kill else "TERM")
        stopped.append(svc.name)
    return stopped


def status(settings: Settings) -> list[ServiceStatus]:
    """The status of every service."""
    return [svc.status() for svc in services(settings)]
