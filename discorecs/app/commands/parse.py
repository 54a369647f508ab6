"""``discorecs parse releases``: a thin shell over :func:`discogs_parser.pipeline.run_releases`."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from discogs_parser.engines import WorkerDied
from discogs_parser.loader import LoadError, LoaderSink
from discogs_parser.pipeline import RunStopped, run_releases
from discogs_parser.progress import make_progress
from discogs_parser.sinks import JsonlSink, Sink
from discorecs.app.options import setting_option
from discorecs.core.logs import get_logger
from discorecs.core.settings import load_settings

log = get_logger("parse")


@click.group()
def parse() -> None:
    """Parse Discogs dumps (and load them into Cassandra)."""


@parse.command("releases")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--limit", type=click.IntRange(min=1), help="Stop after N good releases.")
@click.option(
    "--jsonl",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write one JSON object per release to this file ('-' for stdout); no Cassandra.",
)
@click.option("--no-load", is_flag=True, help="Parse and count only; no Cassandra.")
@click.option("--resume", is_flag=True, help="Skip releases already in the releases table.")
@setting_option(
    "--workers",
    setting="loader.workers",
    type=click.IntRange(min=1),
    help="Parser processes, this one included (each loads what it parses); 1: only this one.",
)
@setting_option("--block-bytes", setting="loader.block_bytes", type=click.IntRange(min=1024))
@setting_option("--concurrency", setting="loader.concurrency", type=click.IntRange(min=1))
@setting_option(
    "--batch-rows",
    setting="loader.batch_rows",
    type=click.IntRange(min=1),
    help="Rows per UNLOGGED batch request (1: single-row inserts).",
)
@click.option("--progress/--no-progress", default=True, help="Progress bar on a terminal.")
def releases(
    path: Path,
    limit: int | None,
    jsonl: Path | None,
    no_load: bool,
    resume: bool,
    workers: int,
    block_bytes: int,
    concurrency: int,
    batch_rows: int,
    progress: bool,
) -> None:
    """Parse a releases dump (.xml or .xml.gz) and load it into Cassandra's releases table.

    Ends with one line, ``releases=N skipped=M unknown_genres=K seconds=S rate=R/s`` (on stderr
    when the JSON lines go to stdout). A truncated or corrupt file, or a parser process that
    dies, stops with one error line saying where or which and how many releases were loaded,
    and exit status 1. With
    ``--workers N`` the file is read here and parsed (and loaded) by this process and N - 1
    others; the output is the same releases in the same order. ``--limit`` parses in this
    process.
    """
    load = not (no_load or jsonl)
    if resume and not load:
        raise click.UsageError("--resume only applies when loading into Cassandra")
    settings = load_settings().with_updates(
        loader={
            "workers": workers,
            "block_bytes": block_bytes,
            "concurrency": concurrency,
            "batch_rows": batch_rows,
        }
    )
    loader = LoaderSink(settings, resume=resume) if load else None
    try:
        with ExitStack() as stack:
            sinks: list[Sink] = []
            if jsonl:
                try:
                    out = click.open_file(str(jsonl), "w", encoding="utf-8")
                except OSError as error:
                    raise click.ClickException(f"cannot write {jsonl}: {error.strerror}") from None
                sinks.append(JsonlSink(stack.enter_context(out)))
            if loader:
                sinks.append(loader)
            summary = run_releases(
                path,
                sinks,
                workers=workers,
                block_bytes=block_bytes,
                limit=limit,
                progress=make_progress(path.stat().st_size, path.name, enabled=progress),
            )
    except RunStopped as exc:
        raise click.ClickException(str(exc)) from None
    except WorkerDied as exc:  # while closing: the releases loaded are not all counted
        raise click.ClickException(f"{path.name}: {exc}") from None
    except LoadError as exc:
        written = (loader.stats.written if loader else 0) + exc.written
        message = f"{path.name}: load failed: {exc}; releases loaded={written}"
        raise click.ClickException(message) from None
    if loader and loader.stats.already_loaded:
        log.info("resume", already_loaded=loader.stats.already_loaded, written=loader.stats.written)
    click.echo(summary.line(), err=str(jsonl) == "-")
