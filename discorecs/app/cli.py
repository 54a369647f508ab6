"""The ``discorecs`` command: one click group, each subcommand a thin shell over a library call."""

from __future__ import annotations

import logging

import click

from discorecs.app.commands.cluster import cluster_group, schema_group
from discorecs.app.commands.evaluate import evaluate
from discorecs.app.commands.ops import loadtest, status
from discorecs.app.commands.parse import parse
from discorecs.app.commands.produce import produce
from discorecs.app.commands.scoring import hourly, recommend, stats
from discorecs.app.commands.serve import serve
from discorecs.app.commands.stream import stream
from discorecs.core import logs


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "DISCORECS"}
)
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def main(verbose: bool) -> None:
    """discorecs: a streaming social recommender for record collectors."""
    logs.configure(logging.DEBUG if verbose else logging.INFO)


for command in (
    cluster_group,
    schema_group,
    parse,
    produce,
    stream,
    hourly,
    recommend,
    stats,
    loadtest,
    status,
    evaluate,
    serve,
):
    main.add_command(command)
