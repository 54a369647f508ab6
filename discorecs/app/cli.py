"""The ``discorecs`` command: one click group, each subcommand a thin shell over a library call."""

from __future__ import annotations

import logging

import click
from cassandra import InvalidRequest, OperationTimedOut, UnresolvableContactPoints
from cassandra.cluster import NoHostAvailable
from confluent_kafka import KafkaError, KafkaException
from pydantic import ValidationError

from deployment.processes import ClusterError
from discorecs.app.commands.cluster import cluster_group, schema_group
from discorecs.app.commands.evaluate import evaluate
from discorecs.app.commands.ops import loadtest, status
from discorecs.app.commands.parse import parse
from discorecs.app.commands.produce import produce
from discorecs.app.commands.scoring import hourly, recommend, stats
from discorecs.app.commands.serve import serve
from discorecs.app.commands.stream import stream
from discorecs.core import logs
from discorecs.core.catalog import CatalogError
from discorecs.core.settings import SettingsError


class Main(click.Group):
    """The command group: foreseeable errors (settings, services, files) end without a traceback.

    Each is one line, but for a service that failed to start, which adds its log's last lines.
    """

    def invoke(self, ctx: click.Context) -> object:
        """Run the subcommand, turning those errors into a :class:`click.ClickException`."""
        try:
            return super().invoke(ctx)
        except (SettingsError, CatalogError) as error:
            raise click.ClickException(str(error)) from None
        except ValidationError as error:
            raise click.ClickException(invalid_settings(error)) from None
        except (NoHostAvailable, OperationTimedOut) as error:
            raise click.ClickException(cassandra_unreachable(error)) from None
        except UnresolvableContactPoints:
            raise click.ClickException(
                "cannot resolve any Cassandra contact point: check cassandra.host and "
                "cassandra.contact_points (hosts only, without a port: that is cassandra.port)"
            ) from None
        except InvalidRequest as error:
            raise click.ClickException(cassandra_refused(error)) from None
        except KafkaException as error:
            raise click.ClickException(kafka_failed(error)) from None
        except ClusterError as error:
            raise click.ClickException(str(error)) from None
        except OSError as error:
            raise click.ClickException(str(error).partition("\n")[0] or repr(error)) from None


def cassandra_unreachable(error: NoHostAvailable | OperationTimedOut) -> str:
    """One line naming each host the driver tried and why it failed."""
    hosts = getattr(error, "errors", None) or {}
    why = "; ".join(f"{host}: {reason}" for host, reason in hosts.items())
    return f"cannot reach Cassandra: {why or type(error).__name__}".splitlines()[0]


def cassandra_refused(error: InvalidRequest) -> str:
    """One line: Cassandra's own message, and what to run when the schema is missing."""
    message = getattr(error, "message", None) or str(error)
    hint = "; apply the schema: discorecs schema apply" if "does not exist" in message else ""
    return f"Cassandra refused the request: {message}{hint}".splitlines()[0]


def kafka_failed(error: KafkaException) -> str:
    """One line: what Kafka (or the client talking to it) said."""
    reason = error.args[0] if error.args else error
    text = reason.str() if isinstance(reason, KafkaError) else str(reason)
    return f"Kafka: {text}".splitlines()[0]


def invalid_settings(error: ValidationError) -> str:
    """One line naming each invalid setting, what is wrong and the value given."""
    problems = []
    for e in error.errors():
        given = "" if isinstance(e["input"], dict) else f" (got {e['input']!r})"
        where = ".".join(map(str, e["loc"]))
        message = e["msg"].removeprefix("Value error, ")  # a validator's own sentence
        problems.append(f"{where}: {message}{given}" if where else f"{message}{given}")
    return "invalid settings: " + "; ".join(problems)


@click.group(
    cls=Main,
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "DISCORECS"},
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
