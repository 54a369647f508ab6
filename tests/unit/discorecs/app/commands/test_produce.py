"""`discorecs produce`: option checks that refuse before anything is read or sent."""

from click.testing import CliRunner

from discorecs.app.commands.produce import produce
from discorecs.core.tables import MAX_BIGINT


def test_user_ids_past_the_largest_id_are_refused_in_one_line() -> None:
    args = ["--users", "10", "--first-user-id", str(MAX_BIGINT - 8), "--events", "1"]
    result = CliRunner().invoke(produce, args)
    assert result.exit_code == 2
    assert f"exceeds the largest id {MAX_BIGINT}" in result.output
    assert "Traceback" not in result.output


def test_a_first_user_id_below_one_is_refused() -> None:
    result = CliRunner().invoke(produce, ["--first-user-id", "0", "--events", "1"])
    assert result.exit_code == 2 and "--first-user-id" in result.output
