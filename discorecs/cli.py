"""The ``discorecs`` command: one click group, each subcommand a thin shell over a library call."""

from __future__ import annotations

import logging

import click

from deployment.cli import cluster_group, schema_group
from discogs_parser.cli import parse
from discorecs import logs
from discorecs.ops_cli import loadtest, status
from kafka_producers.cli import produce
from spark_jobs.scoring.cli import recommend, score, stats
from spark_jobs.stream.cli import stream


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "DISCORECS"}
)
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def main(verbose: bool) -> None:
    """discorecs: a streaming social recommender for record collectors."""
    logs.configure(logging.DEBUG if verbose else logging.INFO)


main.add_command(cluster_group)
main.add_command(schema_group)
main.add_command(parse)
main.add_command(produce)
main.add_command(stream)
main.add_command(score)
main.add_command(recommend)
main.add_command(stats)
main.add_command(loadtest)
main.add_command(status)
