"""Click options backed by a setting: its variable and its default, shown in --help and read."""

import click
from click.testing import CliRunner

from discorecs.app.options import setting_option


@click.command()
@setting_option("--max-offsets", setting="streaming.max_offsets", help="Records per batch.")
def command(max_offsets: int) -> None:
    click.echo(repr(max_offsets))


def test_help_shows_the_variable_and_the_setting_default() -> None:
    result = CliRunner().invoke(command, ["--help"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert (
        "--max-offsets INTEGER Records per batch. "
        "[env var: DISCORECS_STREAMING_MAX_OFFSETS; default: 200000]"
    ) in text


def test_the_default_is_the_setting_default() -> None:
    result = CliRunner().invoke(command, [], env={"DISCORECS_STREAMING_MAX_OFFSETS": None})
    assert result.output == "200000\n"


def test_the_variable_is_read_and_the_flag_wins() -> None:
    env = {"DISCORECS_STREAMING_MAX_OFFSETS": "17"}
    assert CliRunner().invoke(command, [], env=env).output == "17\n"
    assert CliRunner().invoke(command, ["--max-offsets", "5"], env=env).output == "5\n"


def test_a_bad_value_in_the_variable_is_a_usage_error() -> None:
    result = CliRunner().invoke(command, [], env={"DISCORECS_STREAMING_MAX_OFFSETS": "many"})
    assert result.exit_code == 2
    assert "(env var: 'DISCORECS_STREAMING_MAX_OFFSETS'): 'many' is not a valid integer" in (
        result.output
    )
