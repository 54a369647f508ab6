"""The operations commands: options that cannot work together are refused before any work."""

from click.testing import CliRunner

from discorecs.app.cli import main


def test_find_max_with_a_fault_is_refused() -> None:
    result = CliRunner().invoke(main, ["loadtest", "--find-max", "--fault", "kill-stream"])
    assert result.exit_code == 2
    assert "--find-max ramps the rate without faults; drop --fault" in result.output
