"""``discorecs cluster up|down|status`` and ``discorecs schema apply``."""

from __future__ import annotations

import sys
import time

import click

from deployment import cluster as local_cluster
from deployment.processes import ClusterError
from discorecs.core.cassandra import apply_schema, session_scope
from discorecs.core.settings import load_settings
from discorecs.core.topics import apply_topics

SERVICE_NAMES = click.Choice(["kafka", "cassandra"])


@click.group("cluster")
def cluster_group() -> None:
    """Start, stop and inspect the local cluster (Kafka KRaft + Cassandra 5, no Docker)."""


@cluster_group.command("up")
@click.argument("names", nargs=-1, type=SERVICE_NAMES)
def cluster_up(names: tuple[str, ...]) -> None:
    """Start the services that are not running and wait until they answer."""
    started = time.monotonic()
    try:
        statuses = local_cluster.up(load_settings(), names)
    except ClusterError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    print_status(statuses)
    click.echo(f"cluster up in {time.monotonic() - started:.1f}s")


@cluster_group.command("down")
@click.argument("names", nargs=-1, type=SERVICE_NAMES)
@click.option("--kill", is_flag=True, help="SIGKILL instead of a graceful stop.")
def cluster_down(names: tuple[str, ...], kill: bool) -> None:
    """Stop the services this project started (never someone else's)."""
    stopped = local_cluster.down(load_settings(), names, kill=kill)
    click.echo(f"stopped: {', '.join(stopped) or 'nothing (none was started here)'}")


@cluster_group.command("status")
def cluster_status() -> None:
    """Print each service's state, pid, port, version, health and RSS."""
    statuses = local_cluster.status(load_settings())
    print_status(statuses)
    if not all(s.healthy for s in statuses):
        sys.exit(3)


def print_status(statuses: list[local_cluster.ServiceStatus]) -> None:
    """Print one aligned line per service."""
    click.echo(
        f"{'service':<10} {'state':<22} {'pid':>8} {'port':>6} {'version':<9} {'health':<9} rss"
    )
    for s in statuses:
        rss = f"{s.rss_mb:.0f}MB" if s.rss_mb else "-"
        click.echo(
            f"{s.name:<10} {s.state:<22} {s.pid or '-':>8} {s.port:>6} {s.version or '-':<9} "
            f"{'healthy' if s.healthy else 'down':<9} {rss}"
        )


@click.group("schema")
def schema_group() -> None:
    """Create the Cassandra keyspace/tables and the Kafka topics."""


@schema_group.command("apply")
def schema_apply() -> None:
    """Apply schema/*.cql to the keyspace and create the topics (both idempotent)."""
    settings = load_settings()
    with session_scope(settings) as session:
        statements = apply_schema(session, settings.keyspace)
    created = apply_topics(settings)
    click.echo(
        f"keyspace={settings.keyspace} statements={statements} "
        f"topics_created={','.join(created) or 'none'}"
    )
