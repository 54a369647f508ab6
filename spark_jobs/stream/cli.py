"""``discorecs stream``: a thin shell over :func:`spark_jobs.stream.runner.run`."""

from __future__ import annotations

import click

from discorecs.settings import load_settings


@click.command("stream")
@click.option("--once", is_flag=True, help="Consume what is in the topics now, then exit.")
@click.option(
    "--max-offsets",
    default=200_000,
    show_default=True,
    show_envvar=True,
    help="maxOffsetsPerTrigger: records per micro-batch at most.",
)
@click.option(
    "--trigger",
    "trigger_seconds",
    default=0.0,
    show_default=True,
    show_envvar=True,
    help="Seconds between micro-batches (0: start the next as soon as one ends).",
)
@click.option(
    "--retry",
    "retry_seconds",
    default=10.0,
    show_default=True,
    show_envvar=True,
    help="Seconds to wait before restarting a failed query from its checkpoint.",
)
@click.option(
    "--max-failures",
    type=int,
    default=None,
    show_envvar=True,
    help="Give up after this many query failures (default: never; 3 with --once).",
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

    if max_failures is None and once:
        max_failures = 3
    try:
        run(
            load_settings(),
            once=once,
            max_offsets_per_trigger=max_offsets,
            trigger_seconds=trigger_seconds,
            retry_seconds=retry_seconds,
            max_failures=max_failures,
        )
    except StreamError as error:
        raise click.ClickException(str(error)) from error
