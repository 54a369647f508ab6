"""``discorecs loadtest`` and ``discorecs status``: thin shells over the load test and status."""

from __future__ import annotations

import functools
import sys

import click

from discorecs.app.loadtest import FAULTS, LoadReport, run_load
from discorecs.app.options import count_option, finite_option, setting_option, share_option
from discorecs.core.settings import load_settings

FIND_MAX_RATES = (5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000)


def _print_report(report: LoadReport) -> None:
    p50 = "-" if report.latency_p50_ms is None else f"{report.latency_p50_ms:.0f}"
    p99 = "-" if report.latency_p99_ms is None else f"{report.latency_p99_ms:.0f}"
    click.echo(
        f"rate={report.rate:.0f}/s produced={report.produced} "
        f"produced_rate={report.produced_rate:.0f}/s "
        f"consumed_rate={report.consumed_rate:.0f}/s max_lag={report.max_lag} "
        f"p50_ms={p50} p99_ms={p99} dead_letters={report.dead_letters} "
        f"lost={report.lost} duplicated={report.duplicated} held={report.held()}"
    )
    if report.cold_start is not None:
        click.echo(report.cold_start.summary())
    for d in report.discrepancies:
        if d.lost or d.extra:
            click.echo(f"  MISMATCH {d.name}: lost={d.lost} extra={d.extra}")
    if report.truth is not None:
        click.echo(f"  the producer's truth is kept in {report.truth}")
    if report.produce_failed:
        click.echo(
            f"  {report.produce_failed} events were never acknowledged by Kafka but are in the "
            "truth file: 'lost' may count them, the check is inconclusive"
        )


@click.command("loadtest")
@finite_option("--rate", default=10_000.0, show_envvar=True, help="Events/s.")
@finite_option("--duration", default=60.0, show_envvar=True, help="Seconds.")
@count_option("--users", default=10_000, show_envvar=True, help="Users.")
@share_option("--bad-ratio", default=0.01, show_envvar=True, help="Share of malformed events.")
@setting_option("--max-offsets", setting="streaming.max_offsets")
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
    if find_max and faults:
        raise click.UsageError("--find-max ramps the rate without faults; drop --fault")
    settings = load_settings().with_updates(streaming={"max_offsets": max_offsets})
    load = functools.partial(run_load, settings, users=users, bad_ratio=bad_ratio)
    failed = False
    if find_max:
        best = None
        for step_rate in FIND_MAX_RATES:
            report = load(rate=step_rate, duration=duration)
            _print_report(report)
            failed |= bool(report.lost or report.duplicated)
            if not report.held():
                break
            best = step_rate
        click.echo(f"max_sustained_rate={best or 0}/s (p99 < 5 s and lag not growing)")
    elif faults:
        rows = []
        for fault in faults:
            report = load(rate=rate, duration=duration, fault=fault)
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
        report = load(rate=rate, duration=duration)
        _print_report(report)
        failed = bool(report.lost or report.duplicated)
    if failed:
        sys.exit(1)


@click.command("status")
def status() -> None:
    """Cluster health, stream lag and last micro-batch, dead letters, last hourly run."""
    from discorecs.app.commands.cluster import print_status
    from discorecs.app.status import cluster_healthy, recent_quality, recent_runs, stream_progress

    settings = load_settings()
    healthy, statuses = cluster_healthy(settings)
    print_status(statuses)
    if not healthy:
        sys.exit(3)
    progress = stream_progress(settings)
    click.echo(f"stream lag={progress.lag} committed={progress.committed}")
    last = progress.last_batch
    if last is not None:
        click.echo(
            f"last batch id={last['batch_id']} rows={last['rows_in']} "
            f"seconds={last['seconds']:.1f} rate={last['input_rate']:.0f}/s "
            f"p99_ms={last['latency_p99_ms'] or 0:.0f} age_s={progress.last_batch_age_s:.0f} "
            f"dead_letters_total={progress.dead_letters}"
        )
    for quality in recent_quality(settings)[-1:]:
        figures = quality.metrics
        line = (
            f"online check {quality.run_id}: users={figures.get('users', 0):.0f} "
            f"adds={figures.get('adds', 0):.0f}"
        )
        if figures.get("adds"):
            line += (
                f" in_last_top10={figures.get('hit_share', float('nan')):.4f}"
                f" most_popular={figures.get('hit_share_most_popular', float('nan')):.4f}"
            )
        elif figures.get("users"):
            line += " (nothing added since their last lists: no share to measure)"
        else:
            line += " (nobody staged had a list yet: nothing to check)"
        click.echo(line)
    runs = recent_runs(settings)
    if not runs:
        click.echo("no hourly run yet")
        return
    run = runs[0]
    click.echo(f"last hourly run {run.run_id}: {'ok' if run.ok else 'FAILED'}")
    for step in run.steps:
        click.echo(
            f"  {step.step:<26} {step.status:<7} rows={step.rows} seconds={step.seconds:.1f}"
        )
