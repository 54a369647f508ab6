"""``discorecs loadtest``: drive the pipeline at a set rate, watch it, check nothing is lost.

Each run gets its own keyspace and topics (the shipped Discogs sample as catalogue), starts
``discorecs stream`` as a child process (the job under test, which a fault may kill), produces
at the requested rate in a thread, prints one line a second, drains, and compares Cassandra and
the dead-letter topic with the producer's ground truth.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click
from confluent_kafka.admin import AdminClient

from deployment import cluster
from discorecs.cassandra import apply_schema, session_scope
from discorecs.logs import get_logger
from discorecs.settings import REPO_ROOT, TOPIC_NAMES, Settings
from discorecs.topics import apply_topics
from discorecs.verify import (
    Discrepancy,
    cassandra_state,
    compare,
    dead_letter_state,
    expected_state,
)
from kafka_producers.catalog import load_cassandra
from kafka_producers.producer import produce_stream
from kafka_producers.synthetic import EventStream
from kafka_producers.truth import TruthWriter
from spark_jobs.stream.progress import committed_offsets, end_offsets, lag
from spark_jobs.stream.runner import checkpoint_dir, metrics_path

log = get_logger("loadtest")

SAMPLE = REPO_ROOT / "tests" / "data" / "releases-sample.xml.gz"
DISCORECS = str(Path(sys.executable).parent / "discorecs")
FAULTS = ("kill-stream", "restart-kafka", "stop-cassandra")


@dataclass
class Tick:
    """One second of the run."""

    at: float
    produced: int
    consumed: int
    lag: int
    latency_p99_ms: float | None


@dataclass
class FaultResult:
    """One row of the fault table."""

    fault: str
    events_during: int
    lost: int
    duplicated: int
    recovery_seconds: float | None


@dataclass
class LoadReport:
    """What a load run measured."""

    rate: float
    seconds: float
    produced: int
    produced_rate: float
    consumed_rate: float
    max_lag: int
    end_lag: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    dead_letters: int
    """Latencies are the median of the steady-state batches' p50 and the 99th percentile of their
    p99 (event time to written), from the second third of the run on."""
    discrepancies: list[Discrepancy]
    fault: FaultResult | None = None
    ticks: list[Tick] = field(default_factory=list)

    @property
    def lost(self) -> int:
        """Expected items missing from the outputs."""
        return sum(d.lost for d in self.discrepancies)

    @property
    def duplicated(self) -> int:
        """Items present more often than produced (double-applied)."""
        return sum(d.extra for d in self.discrepancies)

    def held(self, p99_limit_ms: float = 5000.0) -> bool:
        """True when p99 stayed under the limit and the lag did not grow over the run."""
        if self.latency_p99_ms is None or self.latency_p99_ms > p99_limit_ms:
            return False
        produce = [t for t in self.ticks if t.at <= self.seconds]
        third = max(1, len(produce) // 3)
        early = max((t.lag for t in produce[third : 2 * third]), default=0)
        late = max((t.lag for t in produce[-third:]), default=0)
        return late <= max(1.5 * early, self.rate * 5)


class StreamProcess:
    """``discorecs stream`` as a child process in its own process group."""

    def __init__(self, settings: Settings, log_path: Path, max_offsets: int) -> None:
        self.settings = settings
        self.log_path = log_path
        self.max_offsets = max_offsets
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (or restart) the job."""
        env = {
            **os.environ,
            "DISCORECS_KEYSPACE": self.settings.keyspace,
            "DISCORECS_TOPIC_PREFIX": self.settings.topic_prefix,
        }
        with open(self.log_path, "ab") as handle:
            self.process = subprocess.Popen(
                [DISCORECS, "stream", "--max-offsets", str(self.max_offsets), "--retry", "5"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=handle,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL the job's whole process group (driver JVM and Python workers)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 60.0) -> None:
        """Ask the job to stop (SIGTERM) and wait; kill it if it does not."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def prepare(settings: Settings, name: str) -> Settings:
    """A fresh keyspace and topic set for one run, with the Discogs sample loaded."""
    run = settings.model_copy(update={"keyspace": name, "topic_prefix": f"{name}."})
    with session_scope(run) as session:
        apply_schema(session, run.keyspace)
    apply_topics(run)
    loaded = subprocess.run(
        [DISCORECS, "parse", "releases", str(SAMPLE)],
        env={**os.environ, "DISCORECS_KEYSPACE": run.keyspace},
        capture_output=True,
        text=True,
        check=False,
    )
    if loaded.returncode != 0:
        raise click.ClickException(f"loading the sample failed: {loaded.stderr[-500:]}")
    return run


def _fault_actions(
    name: str, settings: Settings, stream: StreamProcess
) -> tuple[Callable[[], None], Callable[[], None], float]:
    """(break, repair, seconds between them) for a named fault."""
    if name == "kill-stream":
        return stream.kill, stream.start, 5.0
    if name == "restart-kafka":
        return (
            lambda: cluster.down(settings, ("kafka",)),
            lambda: cluster.up(settings, ("kafka",)),
            10.0,
        )
    if name == "stop-cassandra":
        return (
            lambda: cluster.down(settings, ("cassandra",)),
            lambda: cluster.up(settings, ("cassandra",)),
            60.0,
        )
    raise click.BadParameter(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")


def _batches(settings: Settings) -> list[dict]:
    path = metrics_path(settings)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def run_load(
    settings: Settings,
    *,
    rate: float,
    duration: float,
    users: int,
    fault: str | None = None,
    bad_ratio: float = 0.01,
    max_offsets: int = 200_000,
    drain_timeout: float = 600.0,
    echo: Callable[[str], None] = click.echo,
) -> LoadReport:
    """Run one load (optionally with a fault) and check the result against the truth.

    Args:
        settings: Cluster addresses; a fresh keyspace/topic set is derived from them.
        rate: Events per second to produce.
        duration: Seconds to produce for.
        users: Synthetic users.
        fault: One of :data:`FAULTS`, injected at a third of the duration.
        bad_ratio: Share of malformed events.
        max_offsets: The stream's ``maxOffsetsPerTrigger``.
        drain_timeout: Seconds to wait for the stream to catch up after producing.
        echo: Where the per-second lines go.

    Returns:
        The report; ``report.lost`` and ``report.duplicated`` must both be 0.

    """
    name = f"lt_{time.strftime('%H%M%S')}_{int(rate)}"
    run = prepare(settings, name)
    workdir = settings.cluster_path / "loadtest" / name
    workdir.mkdir(parents=True, exist_ok=True)
    truth_path = workdir / "truth.jsonl"
    stream = StreamProcess(run, workdir / "stream.log", max_offsets)
    stream.start()
    catalog = load_cassandra(run)
    events = EventStream(catalog, n_users=users, seed=int(rate) + 1, bad_ratio=bad_ratio)
    writer = TruthWriter(truth_path)
    produced_stats: list = []

    def produce() -> None:
        produced_stats.append(
            produce_stream(events, run, rate=rate, duration=duration, truth=writer)
        )

    actions = _fault_actions(fault, settings, stream) if fault else None
    fault_at = duration / 3
    fault_window: list[float] = []

    producer = threading.Thread(target=produce, name="producer")
    ticks: list[Tick] = []
    started = time.time()
    producer.start()
    previous: tuple[float, int, int] | None = None
    try:
        while True:
            time.sleep(1.0)
            now = time.time() - started
            if actions and not fault_window and now >= fault_at:
                echo(f"fault {fault}: breaking")
                actions[0]()
                fault_window.append(now)
            if actions and len(fault_window) == 1 and now >= fault_window[0] + actions[2]:
                echo(f"fault {fault}: repairing")
                actions[1]()
                fault_window.append(time.time() - started)
            try:
                ends, done = end_offsets(run, timeout=2.0), committed_offsets(checkpoint_dir(run))
            except Exception:  # noqa: BLE001 - the broker may be down on purpose
                continue
            produced, consumed = sum(ends.values()), sum(done.values())
            batches = _batches(run)
            p99 = batches[-1]["latency_p99_ms"] if batches else None
            tick = Tick(now, produced, consumed, lag(done, ends), p99)
            ticks.append(tick)
            if previous:
                dt = now - previous[0]
                echo(
                    f"t={now:6.1f}s produced/s={(produced - previous[1]) / dt:8.0f} "
                    f"consumed/s={(consumed - previous[2]) / dt:8.0f} lag={tick.lag:8d} "
                    f"batch_p99_ms={p99 if p99 is None else round(p99)}"
                )
            previous = (now, produced, consumed)
            if not producer.is_alive() and tick.lag == 0:
                break
            if not producer.is_alive() and now > duration + drain_timeout:
                echo("drain timed out")
                break
    finally:
        producer.join()
        writer.close()
        stream.stop()
    windows = [started + at for at in fault_window]
    steady = (started + duration / 3, started + duration)
    try:
        return _report(
            run, rate, duration, ticks, truth_path, produced_stats, fault, windows, steady
        )
    finally:
        cleanup(run)


def cleanup(run: Settings) -> None:
    """Drop a run's keyspace and topics (its truth file and stream log stay on disk)."""
    with session_scope(run) as session:
        session.execute(f"DROP KEYSPACE IF EXISTS {run.keyspace}", timeout=120)
    admin = AdminClient({"bootstrap.servers": run.kafka_bootstrap})
    topics = [run.topic(name) for name in TOPIC_NAMES]
    for future in admin.delete_topics(topics, operation_timeout=30).values():
        future.result()


def _report(
    run: Settings,
    rate: float,
    duration: float,
    ticks: list[Tick],
    truth_path: Path,
    produced_stats: list,
    fault: str | None,
    fault_window: list[float],
    steady: tuple[float, float],
) -> LoadReport:
    expected = expected_state(truth_path)
    with session_scope(run) as session:
        actual = cassandra_state(session, run.keyspace)
    actual.dead_letters = dead_letter_state(run)
    discrepancies = compare(expected, actual)
    batches = [b for b in _batches(run) if b["rows_in"]]
    # Latency is judged on steady state: batches written after the first third of the run
    # (start-up, including Spark's, is excluded) and before production ends.
    timed = [b for b in batches if b["latency_p99_ms"] is not None]
    in_window = [b for b in timed if steady[0] <= b["written_at_ms"] / 1000 <= steady[1]]
    timed = in_window or timed
    p50s = sorted(b["latency_p50_ms"] for b in timed)
    p99s = sorted(b["latency_p99_ms"] for b in timed)
    consumed_seconds = (
        (batches[-1]["written_at_ms"] - batches[0]["written_at_ms"]) / 1000 + batches[0]["seconds"]
        if batches
        else 0.0
    )
    produced = produced_stats[0].events if produced_stats else 0
    report = LoadReport(
        rate=rate,
        seconds=duration,
        produced=produced,
        produced_rate=produced_stats[0].rate if produced_stats else 0.0,
        consumed_rate=sum(b["rows_in"] for b in batches) / consumed_seconds
        if consumed_seconds
        else 0,
        max_lag=max((t.lag for t in ticks), default=0),
        end_lag=ticks[-1].lag if ticks else -1,
        latency_p50_ms=p50s[len(p50s) // 2] if p50s else None,
        latency_p99_ms=p99s[min(len(p99s) - 1, int(len(p99s) * 0.99))] if p99s else None,
        dead_letters=sum(actual.dead_letters.values()),
        discrepancies=discrepancies,
        ticks=ticks,
    )
    if fault and len(fault_window) == 2:
        broken, repaired = fault_window
        resumed = next(
            (b["written_at_ms"] / 1000 for b in batches if b["written_at_ms"] / 1000 > repaired),
            None,
        )
        report.fault = FaultResult(
            fault,
            events_during=int(rate * (repaired - broken)),
            lost=report.lost,
            duplicated=report.duplicated,
            recovery_seconds=None if resumed is None else resumed - repaired,
        )
    return report
