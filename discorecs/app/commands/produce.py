"""``discorecs produce``: a thin shell over :func:`kafka_producers.producer.produce_stream`."""

from __future__ import annotations

import click

from discorecs.app.options import count_option, finite_option, share_option
from discorecs.core import events
from discorecs.core.catalog import load_cassandra, load_jsonl
from discorecs.core.settings import load_settings
from discorecs.core.tables import MAX_BIGINT
from kafka_producers.producer import produce_stream
from kafka_producers.synthetic import EventStream
from kafka_producers.truth import TruthWriter


@click.command()
@count_option("--users", default=1000, show_envvar=True, help="Users.")
@count_option(
    "--first-user-id",
    default=1,
    show_envvar=True,
    help="Id of the first user (users are numbered on from it); a second run on the same "
    "topics starts past the first run's users so their collections stay apart.",
)
@finite_option(
    "--rate",
    default=1000.0,
    zero=True,
    show_envvar=True,
    help="Events per second; 0 = as fast as possible.",
)
@finite_option("--duration", default=None, show_envvar=True, help="Stop after S seconds.")
@click.option(
    "--events",
    "max_events",
    type=click.IntRange(min=1),
    envvar="DISCORECS_PRODUCE_EVENTS",
    show_envvar=True,
    help="Stop after N events.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=42,
    show_default=True,
    show_envvar=True,
    help="Random seed.",
)
@click.option(
    "--truth",
    type=click.Path(dir_okay=False, writable=True),
    show_envvar=True,
    help="Write hidden tastes and every event sent (JSONL) here.",
)
@share_option(
    "--bad-ratio",
    default=0.0,
    show_envvar=True,
    help="Share of collection/activity events replaced by malformed ones.",
)
@click.option(
    "--catalog",
    type=click.Path(exists=True, dir_okay=False),
    show_envvar=True,
    help="Parser JSONL of releases; default: the Cassandra releases table.",
)
def produce(
    users: int,
    first_user_id: int,
    rate: float,
    duration: float | None,
    max_events: int | None,
    seed: int,
    truth: str | None,
    bad_ratio: float,
    catalog: str | None,
) -> None:
    """Stream synthetic users, collections and activity into Kafka.

    Runs until --duration or --events is reached, or until SIGINT/SIGTERM; then flushes
    everything produced and prints a summary line.
    """
    if duration is not None and max_events is not None:
        raise click.UsageError("give --duration or --events, not both")
    if first_user_id + users - 1 > MAX_BIGINT:
        raise click.UsageError(f"--first-user-id + --users - 1 exceeds the largest id {MAX_BIGINT}")
    settings = load_settings()
    releases = load_jsonl(catalog) if catalog else load_cassandra(settings)
    if len(releases) == 0:
        raise click.ClickException("the release catalogue is empty: load releases first")
    stream = EventStream(
        releases, n_users=users, seed=seed, bad_ratio=bad_ratio, first_user_id=first_user_id
    )
    try:
        writer = TruthWriter(truth) if truth else None
    except OSError as error:
        raise click.ClickException(f"cannot write {truth}: {error.strerror}") from None
    try:
        if writer is not None:
            topics = {kind: settings.topic(kind) for kind in events.KINDS}
            writer.write_header(stream, seed=seed, bad_ratio=bad_ratio, topics=topics)
        stats = produce_stream(
            stream, settings, rate=rate, duration=duration, max_events=max_events, truth=writer
        )
    finally:
        if writer is not None:
            writer.close()
    click.echo(stats.summary())
    if stats.failed:
        raise SystemExit(1)
