"""The readers' pure parts (their Spark reads are covered by tests/integration)."""

import numpy as np
import pandas as pd

from spark_jobs.scoring.readers import DIRECT_JOIN_SHARE, asked_pairs, few, id_rows


def test_a_direct_join_reads_at_most_a_tenth_of_the_users() -> None:
    assert DIRECT_JOIN_SHARE == 0.1
    assert few(1_000, 100_000) and few(10_000, 100_000)
    assert not few(10_001, 100_000)
    assert few(0, 0) and not few(1, 0)


def test_asked_pairs_are_the_given_rows_users_only() -> None:
    user_ids = np.array([3, 5, 8])
    pairs = pd.DataFrame({"user_id": [3, 5, 8, 9, 5], "release_id": [1, 2, 3, 4, 5]})
    kept, user_rows, known = asked_pairs(pairs, user_ids, np.array([1]))
    assert kept["release_id"].tolist() == [2, 5]
    assert user_rows.tolist() == [1, 1] and known.all()
    kept, user_rows, _ = asked_pairs(pairs, user_ids, np.array([0, 2]))
    assert kept["release_id"].tolist() == [1, 3]
    assert user_rows.tolist() == [0, 2]
    kept, _, known = asked_pairs(pairs, user_ids, None)
    assert kept is pairs, "all rows: unknown users stay, to be logged"
    assert known.tolist() == [True, True, True, False, True]


def test_asked_pairs_finds_users_in_runs_of_their_pairs() -> None:
    user_ids = np.array([3, 5, 8])
    pairs = pd.DataFrame({"user_id": [8, 8, 3, 9, 9, 5, 8], "release_id": range(7)})
    _, user_rows, known = asked_pairs(pairs, user_ids, None)
    assert user_rows[known].tolist() == [2, 2, 0, 1, 2]
    assert known.tolist() == [True, True, True, False, False, True, True]
    empty = pd.DataFrame({"user_id": np.zeros(0, np.int64), "release_id": []})
    _, user_rows, known = asked_pairs(empty, user_ids, None)
    assert len(user_rows) == 0 and len(known) == 0


def test_id_rows_gives_positions_and_whether_each_id_is_there() -> None:
    at, known = id_rows(np.array([10, 20, 40]), np.array([40, 30, 10, 10, -1]))
    assert at.tolist() == [2, 0, 0, 0, 0]
    assert known.tolist() == [True, False, True, True, False]
    at, known = id_rows(np.zeros(0, np.int64), np.array([1]))
    assert at.tolist() == [0] and known.tolist() == [False]
