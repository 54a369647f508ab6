"""``discorecs evaluate``: every recommender side by side on one temporal split per seed."""

from __future__ import annotations

import time
from pathlib import Path

import click

from discorecs.app.options import count_option
from discorecs.core.files import check_writable, write_atomically
from discorecs.core.settings import available_cores, load_settings


@click.command("evaluate")
@click.option(
    "--world",
    type=click.Choice(["synthetic", "cassandra"]),
    default="synthetic",
    show_default=True,
    help="synthetic: generated in memory by the producers' generator; cassandra: the live "
    "user_collection and releases.",
)
@click.option(
    "--interactions",
    "interactions_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A CSV with header user,item,timestamp[,weight] instead of a world (no content: "
    "content rankers are skipped).",
)
@count_option("--users", default=20_000, help="Synthetic users.")
@count_option("--releases", default=50_000, help="Synthetic demo releases.")
@count_option("--events-per-user", default=100, help="Synthetic events per user.")
@click.option(
    "--catalog",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Parser JSONL of releases for the synthetic world (default: the demo catalogue).",
)
@count_option("--seeds", default=3, help="Seeds (worlds, or ranker seeds).")
@click.option(
    "--tune",
    is_flag=True,
    help="Choose the hybrid's calibration strength on a validation split of each seed's "
    "training data and print it (default: the scoring settings', what the hourly job serves).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Seeds evaluated at once, in their own processes (default: every seed, at most two "
    "a core).",
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--plot", "plot_out", type=click.Path(dir_okay=False, path_type=Path))
def evaluate(
    world: str,
    interactions_file: Path | None,
    users: int,
    releases: int,
    events_per_user: int,
    catalog: Path | None,
    seeds: int,
    tune: bool,
    jobs: int | None,
    json_out: Path | None,
    plot_out: Path | None,
) -> None:
    """Fit every ranker, score Recall/NDCG/HitRate@10, coverage, Gini, novelty, calibration.

    Per-user temporal split: each user with 5+ items holds out the latest 20 %, users with 2-4
    items their latest one (the cold-start set); full ranking over the catalogue, training
    items excluded. On the synthetic world also the oracle (the hidden taste's ranking) and
    the friend quality. Means over seeds with 95 % intervals; files are written whole or not
    at all.
    """
    from discorecs.app.evaluation import report
    from discorecs.app.evaluation.interactions import InteractionsError, read_cassandra, read_csv
    from discorecs.app.evaluation.roster import PRODUCTION
    from discorecs.app.evaluation.runner import FRIEND, collect
    from discorecs.app.evaluation.seeds import SeedRun, default_jobs, run_seeds
    from discorecs.app.evaluation.world import WorldSpec
    from spark_jobs.scoring.rankers.split import MIN_ITEMS

    outputs = [path for path in (json_out, plot_out) if path]
    try:
        for path in outputs:
            check_writable(path)
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror}") from None
    settings = load_settings()
    started = time.monotonic()
    spec = WorldSpec(users, releases, events_per_user, catalog=catalog)
    try:
        fixed = (
            read_csv(interactions_file)
            if interactions_file
            else read_cassandra(settings)
            if world == "cassandra"
            else None
        )
    except InteractionsError as error:
        raise click.ClickException(str(error)) from None
    if fixed is not None and not fixed.testable():
        raise click.ClickException(
            f"no user has {MIN_ITEMS} or more items to hold some out: nothing to test"
        )
    jobs = jobs or default_jobs(seeds)
    threads = max(1, available_cores() // jobs)
    click.echo(f"{seeds} seeds, {jobs} at a time, {threads} threads each", err=True)
    runs = [SeedRun(seed, spec, fixed, settings.scoring, tune, threads) for seed in range(seeds)]
    done = run_seeds(runs, jobs)
    if tune:
        for seed, result in enumerate(done):
            click.echo(f"seed {seed + 1}: tuned calibration {result.calibration}", err=True)
    evaluations = [result.evaluation for result in done]
    results = collect(evaluations)
    shown = [r for r in results if r.name != FRIEND]
    click.echo(report.table(shown, PRODUCTION))
    friend = next((r for r in results if r.name == FRIEND), None)
    if friend is not None:
        half = friend.interval("friend_quality")
        click.echo(f"friend quality {friend.mean('friend_quality'):.4f} (±{half:.4f})")
    about = {
        "source": str(interactions_file) if interactions_file else world,
        "seeds": seeds,
        "users": users if fixed is None else int(fixed.shape[0]),
        "seconds": round(time.monotonic() - started, 1),
    }
    files = {}
    if json_out:
        files[json_out] = report.json_bytes(report.as_json(results, PRODUCTION, about))
    if plot_out:
        title = f"discorecs evaluate ({about['source']}, {seeds} seeds)"
        files[plot_out] = report.plot_bytes(shown, PRODUCTION, title)
    for path, data in files.items():
        try:
            write_atomically(path, data)
        except OSError as error:
            raise click.ClickException(f"cannot write {path}: {error.strerror}") from None
    click.echo(f"seconds={about['seconds']}")
