"""``discorecs loadtest``: drive the pipeline at a set rate, watch it, check nothing is lost.

Each run gets its own keyspace and topics (the shipped Discogs sample as catalogue), starts
``discorecs stream`` as a child process (the job under test, which a fault may kill), produces
at the requested rate in a thread, prints one line a second, drains, and compares Cassandra and
the dead-letter topic with the producer's ground truth.

Faults (:data:`FAULTS`) break one thing a third of the way in and repair it later, with no
other step: the stream job (``kill-stream``), Kafka or Cassandra as a whole
(``restart-kafka``, ``stop-cassandra``), one process with ``kill -9`` (``kill-cassandra``: a
Cassandra node; ``kill-kafka-leader``: the broker leading a partition of the busiest topic;
``kill-spark-worker``: a Spark standalone worker and its executors), or a Spark worker while the
hourly job runs after the load (``kill-spark-worker-hourly``, whose output is checked too).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from confluent_kafka import KafkaException

from deployment import cluster
from discorecs.app.sample import sample_releases
from discorecs.app.verify import (
    Discrepancy,
    PipelineState,
    cassandra_state,
    compare,
    dead_letter_state,
    expected_state,
)
from discorecs.core.cassandra import apply_schema, drop_keyspace, session_scope
from discorecs.core.catalog import load_cassandra
from discorecs.core.settings import Settings
from discorecs.core.tables import USERS_SCORED
from discorecs.core.topics import apply_topics, delete_topics
from kafka_producers.producer import ProduceStats, produce_stream
from kafka_producers.synthetic import EventStream
from kafka_producers.truth import TruthWriter
from spark_jobs.stream.progress import (
    STUCK_EXIT_CODE,
    checkpoint_dir,
    committed_offsets,
    end_offsets,
    lag,
    metrics_path,
    read_metrics,
)
from spark_jobs.stream.summary import latency_quantiles

DISCORECS = str(Path(sys.executable).parent / "discorecs")
FAULTS = (
    "kill-stream",
    "restart-kafka",
    "stop-cassandra",
    "kill-cassandra",
    "kill-kafka-leader",
    "kill-spark-worker",
    "kill-spark-worker-hourly",
)
HOURLY_FAULT = "kill-spark-worker-hourly"


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
    """One row of the fault table.

    ``recovery_seconds`` runs from the repair (the service back) to the first micro-batch
    written after it when the pipeline cannot go on without the broken part; from the break to
    the first micro-batch started and written after it when the cluster tolerates the loss
    (one node of three, a worker); for the hourly job, from the break to its next step done.
    """

    fault: str
    events_during: int
    lost: int
    duplicated: int
    recovery_seconds: float | None


@dataclass
class ColdStart:
    """How long the stream took to come up, in seconds from its process's launch.

    The load test produces only once the query runs, so ``first_data`` includes the wait for
    the producer's first events (``producing``) as well as the first batch's own work.
    """

    query_up: float
    producing: float
    first_data: float | None

    def summary(self) -> str:
        """Return the line the load test prints."""
        first = "-" if self.first_data is None else f"{self.first_data:.1f}s"
        return (
            f"cold_start: query_up={self.query_up:.1f}s producing={self.producing:.1f}s "
            f"first_data_batch_written={first} (from the stream process's launch)"
        )


def cold_start(
    launched: float, query_up: float, producing: float, batches: list[dict[str, Any]]
) -> ColdStart:
    """The stream's start-up times from its launch (epoch seconds) and its batch metrics.

    Args:
        launched: When the stream process was started.
        query_up: When its query was running.
        producing: When the producer started.
        batches: The stream's batch metrics, in order; the first with records is the first data.

    """
    first = next((b["written_at_ms"] / 1000 for b in batches if b["rows_in"]), None)
    return ColdStart(
        query_up=query_up - launched,
        producing=producing - launched,
        first_data=None if first is None else first - launched,
    )


@dataclass
class LoadReport:
    """What a load run measured.

    Latencies (event time to written) are quantiles over every event of the steady-state
    batches: those written from a third of the run to its end.
    """

    rate: float
    duration: float
    produced: int
    produce_failed: int
    produced_rate: float
    consumed_rate: float
    max_lag: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    dead_letters: int
    discrepancies: list[Discrepancy]
    fault: FaultResult | None = None
    ticks: list[Tick] = field(default_factory=list)
    cold_start: ColdStart | None = None
    truth: Path | None = None
    """The producer's truth file, kept (by :func:`keep_truth_if_failed`) only when the outputs
    disagree with it."""

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
        produce = [t for t in self.ticks if t.at <= self.duration]
        third = max(1, len(produce) // 3)
        early = max((t.lag for t in produce[third : 2 * third]), default=0)
        late = max((t.lag for t in produce[-third:]), default=0)
        return late <= max(1.5 * early, self.rate * 5)


class StreamProcess:
    """``discorecs stream`` as a child process in its own process group."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (or restart) the job."""
        env = self.settings.child_env()
        with open(self.log_path, "ab") as handle:
            self.process = subprocess.Popen(
                [DISCORECS, "stream", "--retry", "5"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=handle,
                start_new_session=True,
            )

    def wait_started(self, timeout: float = 300.0) -> None:
        """Block until the job's query runs (its Spark session is up), so start-up is not load.

        Raises:
            click.ClickException: The job exited or did not start in time.

        """
        deadline = time.monotonic() + timeout
        while "started query=events" not in self.log_path.read_text(errors="replace"):
            if self.process is None or self.process.poll() is not None:
                raise click.ClickException(f"the stream job exited; see {self.log_path}")
            if time.monotonic() > deadline:
                raise click.ClickException(f"the stream job did not start; see {self.log_path}")
            time.sleep(0.2)

    def restart_if_stuck(self) -> bool:
        """Start the job again if it ended itself on a hung batch, as a supervisor would."""
        if self.process is None or self.process.poll() != STUCK_EXIT_CODE:
            return False
        self.start()
        return True

    def kill(self) -> None:
        """SIGKILL the job's whole process group (driver JVM and Python workers)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 60.0) -> None:
        """Ask the job to stop (SIGTERM) and wait; kill it if it does not.

        The signal goes to the job's Python process alone: it stops the query and its Spark
        session, whose JVM then exits. A JVM signalled too would die under the stopping query.
        """
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
            except BaseException:
                self.kill()
                raise


def run_settings(settings: Settings, name: str) -> Settings:
    """The settings of one run: its own keyspace and topic prefix, both ``name``."""
    return settings.model_copy(update={"keyspace": name, "topic_prefix": f"{name}."})


def prepare(run: Settings) -> None:
    """Create a run's keyspace and topics and load the Discogs sample into it."""
    with session_scope(run) as session:
        apply_schema(session, run.keyspace, replication_factor=run.replication_factor)
    apply_topics(run)
    with sample_releases() as sample:
        loaded = subprocess.run(
            [DISCORECS, "parse", "releases", str(sample)],
            env=run.child_env(),
            capture_output=True,
            text=True,
            check=False,
        )
    if loaded.returncode != 0:
        raise click.ClickException(f"loading the sample failed: {loaded.stderr[-500:]}")


@dataclass
class FaultPlan:
    """A fault to inject: what breaks it, what repairs it, and when.

    Attributes:
        tolerated: The pipeline should go on while it is broken (recovery is timed from the
            break, not the repair).

    """

    name: str
    breaks: Callable[[], object]
    repairs: Callable[[], object]
    outage_seconds: float
    at_seconds: float
    tolerated: bool = False
    window: list[float] = field(default_factory=list)

    @property
    def broken(self) -> bool:
        """True between the break and the repair."""
        return len(self.window) == 1


def service_nodes(settings: Settings, service: str) -> tuple[str, ...]:
    """Names of every node of one service (``kafka`` or ``cassandra``) of the local cluster."""
    return tuple(
        name
        for name in cluster.service_names(settings)
        if name == service or name.startswith(f"{service}-")
    )


def partition_leader(run: Settings, kind: str = "activity") -> str:
    """The Kafka node leading partition 0 of a run's topic (activity: most of the events)."""
    from confluent_kafka.admin import AdminClient

    topic = run.topic(kind)
    metadata = AdminClient({"bootstrap.servers": run.kafka_bootstrap}).list_topics(topic, 10)
    leader = metadata.topics[topic].partitions[0].leader
    return cluster.node_name(run, "kafka", leader)


class Outage:
    """Stop services (gracefully, or with ``kill -9``) and start them again."""

    def __init__(self, settings: Settings, names: Callable[[], tuple[str, ...]], kill: bool):
        self.settings = settings
        self.names = names
        self.kill = kill
        self.stopped: tuple[str, ...] = ()

    def breaks(self) -> None:
        """Stop the services (chosen now: the leader of a partition changes)."""
        self.stopped = self.names()
        cluster.down(self.settings, self.stopped, kill=self.kill)

    def repairs(self) -> None:
        """Start the stopped services and wait until they answer."""
        cluster.up(self.settings, self.stopped)


def fault_plan(
    name: str, settings: Settings, run: Settings, stream: StreamProcess, at: float
) -> FaultPlan:
    """The plan for a named fault (one of :data:`FAULTS`), injected ``at`` seconds in.

    Args:
        name: The fault.
        settings: The cluster.
        run: The run's settings (its topics).
        stream: The stream job.
        at: Seconds into the run.

    Raises:
        click.BadParameter: An unknown fault, or a Spark worker fault with one node.

    """
    if name == "kill-stream":
        return FaultPlan(name, stream.kill, stream.start, 5.0, at)
    several = settings.nodes > 1
    outages: dict[str, tuple[Callable[[], tuple[str, ...]], bool, float]] = {
        "restart-kafka": (lambda: service_nodes(settings, "kafka"), False, 10.0),
        "stop-cassandra": (lambda: service_nodes(settings, "cassandra"), False, 60.0),
        "kill-cassandra": (lambda: service_nodes(settings, "cassandra")[:1], True, 20.0),
        "kill-kafka-leader": (lambda: (partition_leader(run),), True, 20.0),
        "kill-spark-worker": (lambda: ("spark-worker-1",), True, 20.0),
    }
    if name not in outages:
        raise click.BadParameter(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
    if name == "kill-spark-worker" and not several:
        raise click.BadParameter(f"{name} needs a Spark standalone cluster (--nodes 3)")
    names, kill, seconds = outages[name]
    outage = Outage(settings, names, kill)
    tolerated = several and name.startswith("kill-")
    return FaultPlan(name, outage.breaks, outage.repairs, seconds, at, tolerated)


def run_load(
    settings: Settings,
    *,
    rate: float,
    duration: float,
    users: int,
    fault: str | None = None,
    bad_ratio: float = 0.01,
    drain_timeout: float = 600.0,
    echo: Callable[[str], None] = click.echo,
) -> LoadReport:
    """Run one load (optionally with a fault) and check the result against the truth.

    Args:
        settings: Cluster addresses; a fresh keyspace/topic set is derived from them.
        rate: Events per second to produce.
        duration: Seconds to produce for.
        users: Synthetic users.
        fault: One of :data:`FAULTS`, injected at a third of the duration (the hourly one
            after the load, see :func:`hourly_under_fault`).
        bad_ratio: Share of malformed events.
        drain_timeout: Seconds to wait for the stream to catch up after producing.
        echo: Where the per-second lines go.

    Returns:
        The report; ``report.lost`` and ``report.duplicated`` must both be 0.

    """
    name = f"lt_{time.strftime('%H%M%S')}_{uuid.uuid4().hex[:6]}"
    run = run_settings(settings, name)
    workdir = settings.cluster_path / "loadtest" / name
    truth_path = workdir / "truth.jsonl"
    stream = StreamProcess(run, workdir / "stream.log")
    stream_fault = fault if fault != HOURLY_FAULT else None
    plan = fault_plan(stream_fault, settings, run, stream, duration / 3) if stream_fault else None
    if fault == HOURLY_FAULT and settings.nodes == 1:
        raise click.BadParameter(f"{fault} needs a Spark standalone cluster (--nodes 3)")
    workdir.mkdir(parents=True, exist_ok=True)
    with terminated_as_exit():
        try:
            prepare(run)
            launched = time.time()
            stream.start()
            stream.wait_started()
            query_up = time.time()
            catalog = load_cassandra(run)
            events = EventStream(catalog, n_users=users, seed=int(rate) + 1, bad_ratio=bad_ratio)
            with closing(TruthWriter(truth_path)) as writer:
                producer = ProducerThread(events, run, rate, duration, writer)
                started = time.time()
                producer.start()
                ticks = _watch(run, stream, producer, started, duration + drain_timeout, echo, plan)
                producer.join()
            if producer.error is not None:
                raise producer.error
            if producer.stats is None:
                raise click.ClickException("the producer ended without stats")
            steady = (started + duration / 3, started + duration)
            report = _report(run, rate, duration, ticks, truth_path, producer.stats, plan, steady)
            report.cold_start = cold_start(launched, query_up, started, read_metrics(run))
            if fault == HOURLY_FAULT:
                hourly_under_fault(settings, run, report, expected_state(truth_path), workdir, echo)
            keep_truth_if_failed(report, truth_path)
            stream.stop()
            return report
        finally:
            try:
                stream.stop()
            finally:
                try:
                    if plan and plan.broken:
                        plan.repairs()
                finally:
                    cleanup(run)


@contextmanager
def terminated_as_exit() -> Iterator[None]:
    """Meanwhile, turn SIGTERM into ``SystemExit``, so ``finally`` blocks stop the stream job.

    Python's default SIGTERM ends the process at once, which would leave the load test's
    ``discorecs stream`` child (its own process group) running. Only in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def exit_now(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_now)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class ProducerThread(threading.Thread):
    """``produce_stream`` in a thread, keeping its stats or its exception."""

    def __init__(
        self, events: EventStream, run: Settings, rate: float, duration: float, truth: TruthWriter
    ) -> None:
        # A daemon: a load test ended by a signal must not wait out the producer's duration.
        super().__init__(name="producer", daemon=True)
        self.args_ = (events, run, rate, duration, truth)
        self.stats: ProduceStats | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        """Produce; remember the outcome."""
        events, run, rate, duration, truth = self.args_
        try:
            self.stats = produce_stream(events, run, rate=rate, duration=duration, truth=truth)
        except BaseException as error:  # noqa: BLE001 - re-raised by run_load
            self.error = error


def _watch(
    run: Settings,
    stream: StreamProcess,
    producer: ProducerThread,
    started: float,
    deadline: float,
    echo: Callable[[str], None],
    plan: FaultPlan | None,
) -> list[Tick]:
    """Print one line a second until the stream has drained; break and repair the fault."""
    ticks: list[Tick] = []
    previous: tuple[float, int, int] | None = None
    while True:
        time.sleep(1.0)
        now = time.time() - started
        if stream.restart_if_stuck():
            echo(f"t={now:6.1f}s stream ended on a hung batch (exit {STUCK_EXIT_CODE}); restarted")
        if not producer.is_alive() and now > deadline:
            echo("drain timed out")
            return ticks
        if plan and not plan.window and now >= plan.at_seconds:
            echo(f"fault {plan.name}: breaking")
            plan.breaks()
            plan.window.append(time.time())
        if plan and plan.broken and now >= plan.window[0] - started + plan.outage_seconds:
            echo(f"fault {plan.name}: repairing")
            plan.repairs()
            plan.window.append(time.time())
        try:
            ends, done = end_offsets(run, timeout=2.0), committed_offsets(checkpoint_dir(run))
        except (KafkaException, OSError) as error:
            echo(f"t={now:6.1f}s offsets unavailable: {error}")
            continue
        produced, consumed = sum(ends.values()), sum(done.values())
        batches = read_metrics(run)
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
            return ticks


def keep_truth_if_failed(report: LoadReport, truth_path: Path) -> None:
    """Keep the producer's truth file as the evidence of a lost or doubled item, else delete it.

    It holds every event produced (~90 MB for 30 s at 10K/s, 1.9 GB for 10 minutes at 20K/s),
    and load runs kept them all until the disk was full.
    """
    if report.lost or report.duplicated:
        report.truth = truth_path
    else:
        truth_path.unlink(missing_ok=True)


def cleanup(run: Settings) -> None:
    """Drop a run's keyspace, topics, checkpoint and metrics (its stream log stays)."""
    with session_scope(run) as session:
        drop_keyspace(session, run.keyspace)
    delete_topics(run)
    shutil.rmtree(checkpoint_dir(run), ignore_errors=True)
    metrics_path(run).unlink(missing_ok=True)


def _report(
    run: Settings,
    rate: float,
    duration: float,
    ticks: list[Tick],
    truth_path: Path,
    produced: ProduceStats,
    plan: FaultPlan | None,
    steady: tuple[float, float],
) -> LoadReport:
    """Compare the outputs with the truth and summarise the batches' rates and latencies."""
    expected = expected_state(truth_path)
    with session_scope(run) as session:
        actual = cassandra_state(session, run.keyspace)
    actual.dead_letters = dead_letter_state(run)
    batches = [b for b in read_metrics(run) if b["rows_in"]]
    # Latency is judged on steady state: batches written after the first third of the run
    # (start-up, Spark's included, is excluded) and before production ends.
    timed = [b for b in batches if b["latency_p99_ms"] is not None]
    timed = [b for b in timed if steady[0] <= b["written_at_ms"] / 1000 <= steady[1]] or timed
    quantiles = latency_quantiles(pair for b in timed for pair in b["latencies_ms"])
    consumed_seconds = (
        (batches[-1]["written_at_ms"] - batches[0]["written_at_ms"]) / 1000 + batches[0]["seconds"]
        if batches
        else 0.0
    )
    report = LoadReport(
        rate=rate,
        duration=duration,
        produced=produced.events,
        produce_failed=produced.failed,
        produced_rate=produced.rate,
        consumed_rate=(
            sum(b["rows_in"] for b in batches) / consumed_seconds if consumed_seconds else 0.0
        ),
        max_lag=max((t.lag for t in ticks), default=0),
        latency_p50_ms=quantiles[0] if quantiles else None,
        latency_p99_ms=quantiles[1] if quantiles else None,
        dead_letters=sum(actual.dead_letters.values()),
        discrepancies=compare(expected, actual),
        ticks=ticks,
    )
    if plan and len(plan.window) == 2:
        broken, repaired = plan.window
        report.fault = FaultResult(
            plan.name,
            events_during=int(rate * (repaired - broken)),
            lost=report.lost,
            duplicated=report.duplicated,
            recovery_seconds=recovery_seconds(batches, broken, repaired, plan.tolerated),
        )
    return report


def recovery_seconds(
    batches: list[dict[str, Any]], broken: float, repaired: float, tolerated: bool
) -> float | None:
    """Seconds until the stream wrote again (see :class:`FaultResult`); None if it never did.

    Args:
        batches: The micro-batches' stats (``written_at_ms``, ``seconds``).
        broken: When the fault was injected (epoch seconds).
        repaired: When it was repaired.
        tolerated: Time from the break, to the first batch begun after it.

    """
    for batch in batches:
        written = batch["written_at_ms"] / 1000
        if tolerated and written - batch["seconds"] > broken:
            return written - broken
        if not tolerated and written > repaired:
            return written - repaired
    return None


class HourlyProcess:
    """``discorecs hourly`` as a child process, its output in a log file."""

    def __init__(self, run: Settings, log_path: Path) -> None:
        self.log_path = log_path
        with open(log_path, "ab") as handle:
            self.process = subprocess.Popen(
                [DISCORECS, "hourly"],
                env=run.child_env(),
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=handle,
                start_new_session=True,
            )

    def steps_done(self) -> int:
        """Steps the run has finished so far."""
        return self.log_path.read_text(errors="replace").count("step_done")

    def wait_steps(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` steps are done; False if the run ended or time ran out first."""
        deadline = time.monotonic() + timeout
        while self.steps_done() < count:
            if self.process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True


def hourly_under_fault(
    settings: Settings,
    run: Settings,
    report: LoadReport,
    expected: PipelineState,
    workdir: Path,
    echo: Callable[[str], None],
    outage_seconds: float = 20.0,
    timeout: float = 900.0,
) -> None:
    """Run the hourly job on the loaded run, ``kill -9`` a Spark worker during its reads.

    The worker is killed once the first step (release scores) is done, so the executors die
    in the middle of the reads; it is started again ``outage_seconds`` later. The run must
    finish by itself, and then every user the stream staged must be scored with the collection
    size of the truth: the ``users_scored`` discrepancy of ``report`` (a missing user or a wrong
    size is lost, a scored user unknown to the truth is extra).

    Raises:
        click.ClickException: The hourly job failed or did not finish in time.

    """
    hourly = HourlyProcess(run, workdir / "hourly.log")
    outage = Outage(settings, lambda: ("spark-worker-1",), kill=True)
    broken = resumed = repaired = None
    try:
        if not hourly.wait_steps(1, timeout):
            raise click.ClickException(f"the hourly job ended early; see {hourly.log_path}")
        echo("fault kill-spark-worker-hourly: breaking")
        done = hourly.steps_done()
        broken = time.time()
        outage.breaks()
        while hourly.process.poll() is None and time.time() - broken < timeout:
            if resumed is None and hourly.steps_done() > done:
                resumed = time.time()
            if repaired is None and time.time() - broken >= outage_seconds:
                echo("fault kill-spark-worker-hourly: repairing")
                outage.repairs()
                repaired = time.time()
            time.sleep(0.5)
        if hourly.process.poll() != 0:
            raise click.ClickException(f"the hourly job failed or hung; see {hourly.log_path}")
    finally:
        if hourly.process.poll() is None:
            os.killpg(hourly.process.pid, signal.SIGKILL)
        if broken is not None and repaired is None:
            outage.repairs()
    report.discrepancies.append(scored_discrepancy(run, expected))
    report.fault = FaultResult(
        HOURLY_FAULT,
        events_during=0,
        lost=report.lost,
        duplicated=report.duplicated,
        recovery_seconds=None if resumed is None or broken is None else resumed - broken,
    )


def scored_discrepancy(run: Settings, expected: PipelineState) -> Discrepancy:
    """Users the hourly job should have scored (every staged user, its collection size).

    The staged users are every user with a profile or a collection change, so a scored user
    outside them is extra.
    """
    sizes: dict[int, int] = {user: 0 for user in expected.changed_users}
    for user, _release in expected.collections:
        sizes[user] = sizes.get(user, 0) + 1
    with session_scope(run) as session:
        query = session.prepare(USERS_SCORED.select(run.keyspace, ["user_id", "collection_size"]))
        scored = {r.user_id: r.collection_size for r in session.execute(query, timeout=120)}
    lost = sum(
        1
        for user in expected.changed_users
        if user not in scored or (scored[user] or 0) != sizes[user]
    )
    extra = sum(1 for user in scored if user not in expected.changed_users)
    return Discrepancy("users_scored", lost, extra)
