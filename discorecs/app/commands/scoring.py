"""CLI commands of the hourly batch: ``hourly``, ``recommend USER_ID``, ``stats``."""

from __future__ import annotations

import dataclasses

import click

from discorecs.app.options import setting_option
from discorecs.core.cassandra import session_scope
from discorecs.core.files import check_writable, exclusive_lock
from discorecs.core.settings import load_settings
from discorecs.core.tables import MAX_BIGINT, USERS_SCORED


@click.command()
@click.option("--full", is_flag=True, help="Rescore every user, not only staged/affected ones.")
@setting_option("--neighbours", setting="scoring.neighbours", help="k nearest neighbours.")
@setting_option("--recall-sample", setting="scoring.recall_sample", help="Users in recall check.")
@click.option(
    "--catch-up/--no-catch-up",
    default=True,
    show_default=True,
    help="First consume what the topics hold (`discorecs stream --once`).",
)
def hourly(full: bool, neighbours: int, recall_sample: int, catch_up: bool) -> None:
    """The hourly run (what cron starts): stream catch-up, then scoring; non-zero on failure."""
    from spark_jobs.scoring.hourly import run_hourly
    from spark_jobs.stream.runner import StreamError
    from spark_jobs.stream.runner import run as run_stream

    settings = load_settings().with_updates(
        scoring={"neighbours": neighbours, "recall_sample": recall_sample}
    )
    lock = settings.snapshot_path / "hourly.lock"
    try:
        check_writable(lock)
    except OSError as error:
        raise click.ClickException(
            f"cannot write the hourly lock {lock} (DISCORECS_SNAPSHOT_DIR): {error.strerror}"
        ) from None
    with exclusive_lock(lock) as held:
        if not held:
            raise click.ClickException(f"another hourly run is going (it holds {lock})")
        if catch_up:
            try:
                run_stream(
                    settings, once=True, max_failures=settings.streaming.catch_up_max_failures
                )
            except StreamError as error:
                raise click.ClickException(f"stream catch-up: {error}") from error
        result = run_hourly(settings, full=full)
    click.echo(f"run {result.run_id}: recall@1={result.recall:.4f}")
    for name, seconds in result.seconds.items():
        click.echo(f"  {name:<26} {seconds:8.2f} s")
    for name, value in result.counts.items():
        click.echo(f"  {name:<26} {value}")


@click.command()
@click.argument("user_id", type=click.IntRange(1, MAX_BIGINT))
def recommend(user_id: int) -> None:
    """Print one user's scored row: taste, friend, the friend's pick and the top-10 list."""
    settings = load_settings()
    with session_scope(settings) as session:
        query = session.prepare(USERS_SCORED.select(settings.keyspace, where=["user_id"]))
        row = session.execute(query, (user_id,)).one()
    if row is None:
        raise click.ClickException(f"user {user_id} has not been scored")
    click.echo(f"user {row.user_id}  (collection: {row.collection_size}, scored {row.scored_at})")
    click.echo(f"top genre: {row.top_genre or '-'}")
    ranks = row.genre_ranks or {}
    for genre, rank in sorted(ranks.items(), key=lambda item: -item[1])[:5]:
        click.echo(f"  {genre:<24} percentile {rank}")
    if row.friend_id is not None:
        click.echo(f"friend: {row.friend_id} (cosine {row.friend_similarity:.3f})")
    else:
        click.echo("friend: none (empty collection)")
    click.echo(f"release: {row.release_id} {row.release_title or ''}")
    for i, rec in enumerate(row.recommendations or [], start=1):
        click.echo(f"  {i:>2}. {rec.release_id:>10}  {rec.score:6.3f}  {rec.title or ''}")


@click.command()
def stats() -> None:
    """Print users, collection sizes, unique friends/releases, coverage, Gini, owned share."""
    from discorecs.app.stats import collect_stats

    settings = load_settings()
    with session_scope(settings) as session:
        figures = collect_stats(session, settings.keyspace)
    for name, value in dataclasses.asdict(figures).items():
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        click.echo(f"{name:<24} {text}")
