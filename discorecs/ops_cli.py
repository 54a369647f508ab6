"""``discorecs loadtest`` and ``discorecs status``: thin shells over loadtest and progress."""

from __future__ import annotations

import sys
import time

import click

from discorecs.loadtest import FAULTS
from discorecs.settings import load_settings

FIND_MAX_RATES = (5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000)


def _print_report(report: object) -> None:
    from discorecs.loadtest import LoadReport

    assert isinstance(report, LoadReport)
    p50 = "-" if report.latency_p50_ms is None else f"{report.latency_p50_ms:.0f}"
    p99 = "-" if report.latency_p99_ms is None else f"{report.latency_p99_ms:.0f}"
    click.echo(
        f"rate={report.rate:.0f}/s produced={report.produced} "
        f"produced_rate={report.produced_rate:.0f}/s "
        f"consumed_rate={report.consumed_rate:.0f}/s max_lag={report.max_lag} "
        f"p50_ms={p50} p99_ms={p99} dead_letters={report.dead_letters} "
        f"lost={report.lost} duplicated={report.duplicated} held={report.held()}"
    )
    for d in report.discrepancies:
        if d.lost or d.extra:
            click.echo(f"  MISMATCH {d.name}: lost={d.lost} extra={d.extra}")


@click.command("loadtest")
@click.option("--rate", default=10_000.0, show_default=True, show_envvar=True, help="Events/s.")
@click.option("--duration", default=60.0, show_default=True, show_envvar=True, help="Seconds.")
@click.option("--users", default=10_000, show_default=True, show_envvar=True, help="Users.")
@click.option("--bad-ratio", default=0.01, show_default=True, show_envvar=True)
@click.option("--max-offsets", default=200_000, show_default=True, show_envvar=True)
@click.option("--find-max", is_flag=True, help="Ramp the rate; report the highest one held.")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    type=click.Choice(FAULTS),
    help="Inject this fault a third of the way in (repeat for several runs).",
)
def loadtest(
    rate: float,
    duration: float,
    users: int,
    bad_ratio: float,
    max_offsets: int,
    find_max: bool,
    faults: tuple[str, ...],
) -> None:
    """Drive the pipeline at --rate for --duration; report rates, lag, latency and loss."""
    from discorecs.loadtest import run_load

    settings = load_settings()
    options = {"users": users, "bad_ratio": bad_ratio, "max_offsets": max_offsets}
    failed = False
    if find_max:
        best = None
        for step_rate in FIND_MAX_RATES:
            report = run_load(settings, rate=step_rate, duration=duration, **options)
            _print_report(report)
            failed |= bool(report.lost or report.duplicated)
            if not report.held():
                break
            best = step_rate
        click.echo(f"max_sustained_rate={best or 0}/s (p99 < 5 s and lag not growing)")
    elif faults:
        rows = []
        for fault in faults:
            report = run_load(settings, rate=rate, duration=duration, fault=fault, **options)
            _print_report(report)
            rows.append(report.fault)
            failed |= bool(report.lost or report.duplicated)
        click.echo("| fault | events during | lost | duplicated | recovery (s) |")
        click.echo("|---|---|---|---|---|")
        for row in rows:
            recovery = (
                "-"
                if row is None or row.recovery_seconds is None
                else (f"{row.recovery_seconds:.1f}")
            )
            if row is not None:
                click.echo(
                    f"| {row.fault} | {row.events_during} | {row.lost} | {row.duplicated} | "
                    f"{recovery} |"
                )
    else:
        report = run_load(settings, rate=rate, duration=duration, **options)
        _print_report(report)
        failed = bool(report.lost or report.duplicated)
    if failed:
        sys.exit(1)


@click.command("status")
def status() -> None:
    """Cluster health, stream lag and last micro-batch, dead letters, last hourly run."""
    from deployment import cluster
    from deployment.cli import print_status
    from discorecs.cassandra import session_scope
    from spark_jobs.stream.progress import (
        checkpoint_dir,
        committed_offsets,
        end_offsets,
        lag,
        read_metrics,
    )

    settings = load_settings()
    statuses = cluster.status(settings)
    print_status(statuses)
    if not all(s.healthy for s in statuses):
        sys.exit(3)
    committed = committed_offsets(checkpoint_dir(settings))
    click.echo(
        f"stream lag={lag(committed, end_offsets(settings))} committed={sum(committed.values())}"
    )
    batches = read_metrics(settings)
    if batches:
        last = batches[-1]
        age = time.time() - last["written_at_ms"] / 1000
        click.echo(
            f"last batch id={last['batch_id']} rows={last['rows_in']} "
            f"seconds={last['seconds']:.1f} "
            f"rate={last['input_rate']:.0f}/s p99_ms={last['latency_p99_ms'] or 0:.0f} "
            f"age_s={age:.0f} "
            f"dead_letters_total={sum(b['dead_letters'] for b in batches)}"
        )
    with session_scope(settings) as session:
        query = session.prepare(
            f"SELECT run_id, step, status, rows, seconds FROM {settings.keyspace}.batch_runs "
            "WHERE pipeline = ? LIMIT 20"
        )
        rows = list(session.execute(query, ("hourly",)))
    if rows:
        run_id = rows[0].run_id
        steps = [r for r in rows if r.run_id == run_id]
        ok = all(r.status == "ok" for r in steps)
        click.echo(f"last hourly run {run_id}: {'ok' if ok else 'FAILED'}")
        for r in steps:
            click.echo(f"  {r.step:<18} {r.status:<7} rows={r.rows} seconds={r.seconds:.1f}")
    else:
        click.echo("no hourly run yet")
