"""``discorecs cluster up|down|status`` and ``discorecs schema apply``."""

from __future__ import annotations

import sys
import time

import click

from deployment import cluster as local_cluster
from deployment.processes import ClusterError
from discorecs.core.cassandra import apply_schema, session_scope
from discorecs.core.settings import Settings, env_name, load_settings
from discorecs.core.topics import apply_topics

NODES_OPTION = click.option(
    "--nodes",
    type=click.IntRange(min=1),
    default=Settings.model_fields["nodes"].default,
    envvar=env_name("nodes"),
    show_default=True,
    show_envvar=True,
    help="Cassandra and Kafka nodes; more than one adds a Spark master and workers. "
    "Later commands (schema apply, stream, hourly) need the same DISCORECS_NODES.",
)


def _settings(nodes: int, names: tuple[str, ...]) -> Settings:
    """The settings with ``nodes``; every name must be a service of that topology."""
    settings = load_settings().with_updates(nodes=nodes)
    known = local_cluster.service_names(settings)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)} (services with --nodes {nodes}: {', '.join(known)})",
            param_hint="NAMES",
        )
    return settings


@click.group("cluster")
def cluster_group() -> None:
    """Start, stop and inspect the local cluster (Kafka KRaft + Cassandra 5, no Docker)."""


@cluster_group.command("up")
@click.argument("names", nargs=-1)
@NODES_OPTION
def cluster_up(names: tuple[str, ...], nodes: int) -> None:
    """Start the services (all, or NAMES) that are not running and wait until they answer."""
    started = time.monotonic()
    settings = _settings(nodes, names)
    try:
        statuses = local_cluster.up(settings, names)
    except ClusterError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    print_status(statuses)
    click.echo(f"cluster up in {time.monotonic() - started:.1f}s")


@cluster_group.command("down")
@click.argument("names", nargs=-1)
@NODES_OPTION
@click.option("--kill", is_flag=True, help="SIGKILL instead of a graceful stop.")
def cluster_down(names: tuple[str, ...], nodes: int, kill: bool) -> None:
    """Stop the services this project started (never someone else's)."""
    stopped = local_cluster.down(_settings(nodes, names), names, kill=kill)
    click.echo(f"stopped: {', '.join(stopped) or 'nothing (none was started here)'}")


@cluster_group.command("status")
@click.argument("names", nargs=-1)
@NODES_OPTION
def cluster_status(names: tuple[str, ...], nodes: int) -> None:
    """Print each service's (or NAMES') state, pid, port, version, health and RSS.

    Exits with 3 when one is not healthy (the compose file's healthchecks use it).
    """
    statuses = local_cluster.status(_settings(nodes, names), names)
    print_status(statuses)
    if not all(s.healthy for s in statuses):
        sys.exit(3)


@cluster_group.command("run")
@click.argument("name")
@NODES_OPTION
def cluster_run(name: str, nodes: int) -> None:
    """Run one service (e.g. cassandra-2) in the foreground: a container's main process."""
    settings = _settings(nodes, (name,))
    try:
        local_cluster.run_foreground(settings, name)
    except ClusterError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)


def print_status(statuses: list[local_cluster.ServiceStatus]) -> None:
    """Print one aligned line per service."""
    click.echo(
        f"{'service':<15} {'state':<22} {'pid':>8} {'port':>6} {'version':<9} {'health':<9} rss"
    )
    for s in statuses:
        rss = f"{s.rss_mb:.0f}MB" if s.rss_mb else "-"
        click.echo(
            f"{s.name:<15} {s.state:<22} {s.pid or '-':>8} {s.port:>6} {s.version or '-':<9} "
            f"{'healthy' if s.healthy else 'down':<9} {rss}"
        )


@click.group("schema")
def schema_group() -> None:
    """Create the Cassandra keyspace/tables and the Kafka topics."""


@schema_group.command("apply")
def schema_apply() -> None:
    """Apply schema/*.cql to the keyspace and create the topics (both idempotent).

    Both get ``min(3, DISCORECS_NODES)`` replicas; with more than one, the topics need all
    replicas but one in sync (``min.insync.replicas``) and the dead letters are compacted.
    """
    settings = load_settings()
    with session_scope(settings) as session:
        statements = apply_schema(
            session, settings.keyspace, replication_factor=settings.replication_factor
        )
    created = apply_topics(settings)
    click.echo(
        f"keyspace={settings.keyspace} replication={settings.replication_factor} "
        f"statements={statements} topics_created={','.join(created) or 'none'}"
    )
