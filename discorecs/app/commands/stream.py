"""``discorecs stream``: a thin shell over :func:`spark_jobs.stream.runner.run`."""

from __future__ import annotations

import click

from discorecs.app.options import setting_option
from discorecs.core.settings import load_settings


@click.command("stream")
@click.option("--once", is_flag=True, help="Consume what is in the topics now, then exit.")
@setting_option(
    "--max-offsets",
    setting="streaming.max_offsets",
    help="maxOffsetsPerTrigger: records per micro-batch at most.",
)
@setting_option(
    "--trigger",
    "trigger_seconds",
    setting="streaming.trigger_seconds",
    help="Seconds between micro-batches (0: start the next as soon as one ends).",
)
@setting_option(
    "--retry",
    "retry_seconds",
    setting="streaming.retry_seconds",
    help="Seconds to wait before restarting a failed query from its checkpoint.",
)
@click.option(
    "--max-failures",
    type=int,
    default=None,
    show_envvar=True,
    help="Give up after this many query failures (default: never; with --once the "
    "streaming.catch_up_max_failures setting).",
)
def stream(
    once: bool,
    max_offsets: int,
    trigger_seconds: float,
    retry_seconds: float,
    max_failures: int | None,
) -> None:
    """Stream users, collections and activity from Kafka into Cassandra (effectively once)."""
    from spark_jobs.stream.runner import StreamError, run

    settings = load_settings().with_updates(
        streaming={
            "max_offsets": max_offsets,
            "trigger_seconds": trigger_seconds,
            "retry_seconds": retry_seconds,
        }
    )
    if max_failures is None and once:
        max_failures = settings.streaming.catch_up_max_failures
    try:
        run(settings, once=once, max_failures=max_failures)
    except StreamError as error:
        raise click.ClickException(str(error)) from error
