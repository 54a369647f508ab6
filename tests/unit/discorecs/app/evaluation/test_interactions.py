"""Interaction sources: a CSV is read strictly (errors name the line); matrices dedupe pairs."""

from pathlib import Path

import numpy as np
import pytest

from discorecs.app.evaluation.interactions import Interactions, InteractionsError, read_csv


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "interactions.csv"
    path.write_text(text)
    return path


def test_csv_with_ids_of_any_kind_epoch_and_iso_times(tmp_path: Path) -> None:
    data = read_csv(
        write(
            tmp_path,
            "user,item,timestamp\nann,r1,100\nbob,r2,2026-01-01T00:00:00Z\n\nann,r2,50.5\n",
        )
    )
    assert data.user_ids.tolist() == ["ann", "bob"]
    assert data.item_ids.tolist() == ["r1", "r2"]
    assert data.users.tolist() == [0, 1, 0] and data.items.tolist() == [0, 1, 1]
    assert data.times.tolist() == [100.0, 1767225600.0, 50.5]
    assert data.weights.tolist() == [1.0, 1.0, 1.0] and data.content is None


def test_optional_weight_column(tmp_path: Path) -> None:
    data = read_csv(write(tmp_path, "user,item,timestamp,weight\n1,2,3,2.5\n"))
    assert data.weights.tolist() == [2.5]


def test_a_byte_order_mark_is_not_part_of_the_header(tmp_path: Path) -> None:
    data = read_csv(write(tmp_path, "\ufeffuser,item,timestamp\n1,2,3\n"))
    assert data.user_ids.tolist() == ["1"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("u,i,t\n1,2,3\n", "line 1: header must be"),
        ("user,item,timestamp\n", "no interactions"),
        ("user,item,timestamp\n1,2,3\n1,2\n", "line 3: expected 3 fields, got 2"),
        ("user,item,timestamp\n1,2,yesterday\n", "line 2: timestamp 'yesterday'"),
        ("user,item,timestamp\n1,,3\n", "line 2: empty user or item"),
        (
            "user,item,timestamp,weight\n1,2,3,-1\n",
            "line 2: weight '-1' must be within 1e-06",
        ),
        ("user,item,timestamp,weight\n1,2,3,1e39\n", "line 2: weight '1e39' must be within"),
        ("user,item,timestamp,weight\n1,2,3,1e-50\n", "line 2: weight '1e-50' must be within"),
        ("user,item,timestamp,weight\n1,2,3,nan\n", "line 2: weight 'nan' must be within"),
        ("user,item,timestamp,weight\n1,2,3,x\n", "line 2: weight 'x' is not a number"),
        ("user,item,timestamp\n1,2,nan\n", "line 2: timestamp 'nan' is not finite"),
    ],
)
def test_malformed_files_name_the_problem_and_the_line(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(InteractionsError, match=message):
        read_csv(write(tmp_path, text))


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InteractionsError, match="cannot read"):
        read_csv(tmp_path / "nope.csv")


def test_matrices_keep_the_latest_time_and_sum_weights_of_a_repeated_pair() -> None:
    data = Interactions(
        user_ids=np.array([10, 11]),
        item_ids=np.array([5, 6, 7]),
        users=np.array([0, 0, 1, 0]),
        items=np.array([2, 0, 1, 2]),
        times=np.array([5.0, 1.0, 2.0, 9.0]),
        weights=np.array([1.0, 1.0, 1.0, 2.0], dtype=np.float32),
    )
    values, stamps = data.matrices()
    assert values.toarray().tolist() == [[1, 0, 3], [0, 1, 0]]
    assert stamps.toarray().tolist() == [[1, 0, 9], [0, 2, 0]]


def test_activity_strictly_before_each_users_cut() -> None:
    data = Interactions(
        user_ids=np.array([1, 2]),
        item_ids=np.array([1, 2]),
        users=np.array([0]),
        items=np.array([0]),
        times=np.array([1.0]),
        weights=np.ones(1, dtype=np.float32),
        activity=(
            np.array([0, 0, 0, 0, 1, 1]),
            np.array([1, 1, 1, 0, 0, 0]),
            np.array([2.0, 1.0, 3.0, 3.0, 5.0, 4.0]),
        ),
    )
    counts, first = data.activity_before(np.array([3.0, 9.0]))
    assert counts is not None and first is not None
    assert counts.toarray().tolist() == [[0, 2], [2, 0]]
    assert first.toarray().tolist() == [[0, 1.0], [4.0, 0]]
