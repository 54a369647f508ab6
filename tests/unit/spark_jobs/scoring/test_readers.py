"""The readers' pure parts (their Spark reads are covered by tests/integration)."""

import numpy as np
import pandas as pd

from spark_jobs.scoring.readers import DIRECT_JOIN_SHARE, asked_pairs, few


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
