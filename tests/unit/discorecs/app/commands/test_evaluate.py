"""`discorecs evaluate` and `produce`: outputs and catalogues that cannot work end in one line."""

from pathlib import Path

from click.testing import CliRunner

from discorecs.app.cli import main


def one_line_error(args: list[str]) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    return result.output


def test_an_output_that_cannot_be_written_stops_evaluate_before_any_work(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    output = one_line_error(["evaluate", "--json", str(blocker / "out.json")])
    assert output.startswith(f"Error: cannot write {blocker / 'out.json'}: ")


def test_a_file_without_a_test_user_stops_evaluate_in_one_line(tmp_path: Path) -> None:
    few = tmp_path / "few.csv"
    few.write_text("user,item,timestamp\n1,2,3\n1,3,4\n2,2,5\n" + "1,3,9\n" * 5)
    output = one_line_error(["evaluate", "--interactions", str(few)])
    assert output == "Error: no user has 5 or more items to hold some out: nothing to test\n"


def test_a_bad_catalogue_or_truth_path_stops_produce_in_one_line(tmp_path: Path) -> None:
    catalogue = tmp_path / "cut.jsonl"
    catalogue.write_text('{"release_id": 1, "genres": ["Rock"]}\n{"release_id": 2, "ge')
    output = one_line_error(["produce", "--catalog", str(catalogue), "--events", "1"])
    assert output.startswith(f"Error: {catalogue}: line 2: bad JSON: ")
    good = tmp_path / "good.jsonl"
    good.write_text('{"release_id": 1, "genres": ["Rock"]}\n')
    truth = tmp_path / "missing" / "truth.jsonl"
    output = one_line_error(["produce", "--catalog", str(good), "--truth", str(truth)])
    assert output == f"Error: cannot write {truth}: No such file or directory\n"
