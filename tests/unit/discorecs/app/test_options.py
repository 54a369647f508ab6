"""Click options: backed by a setting (its variable and default), counts and shares in range."""

import click
import pytest
from click.testing import CliRunner

from discorecs.app.options import FiniteRange, count_option, setting_option, share_option


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


@click.command()
@count_option("--users", default=10)
@share_option("--bad-ratio", default=0.0)
def counted(users: int, bad_ratio: float) -> None:
    click.echo(f"{users} {bad_ratio}")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--users", "0"], "Invalid value for '--users': 0 is not in the range x>=1."),
        (["--bad-ratio", "2"], "Invalid value for '--bad-ratio': 2.0 is not in the range"),
    ],
)
def test_counts_and_shares_out_of_range_are_one_line_errors(args: list[str], error: str) -> None:
    result = CliRunner().invoke(counted, args)
    assert result.exit_code == 2 and error in result.output


def test_counts_and_shares_in_range_pass() -> None:
    assert CliRunner().invoke(counted, ["--users", "1", "--bad-ratio", "1"]).output == "1 1.0\n"


@click.command()
@click.option("--rate", type=FiniteRange(min=0.0, min_open=True), default=1.0)
def rated(rate: float) -> None:
    click.echo(repr(rate))


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ("nan", "'nan' is not a finite number."),
        ("inf", "'inf' is not a finite number."),
        ("0", "0.0 is not in the range x>0."),
        ("-5", "-5.0 is not in the range x>0."),
    ],
)
def test_a_rate_must_be_a_finite_number_in_range(given: str, error: str) -> None:
    result = CliRunner().invoke(rated, ["--rate", given])
    assert result.exit_code == 2 and error in result.output, result.output
    assert CliRunner().invoke(rated, ["--rate", "2.5"]).output == "2.5\n"
