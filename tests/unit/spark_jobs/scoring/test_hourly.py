"""Which rescored users the hourly run lists again."""

from datetime import datetime

import numpy as np

from spark_jobs.scoring.compute import UserState
from spark_jobs.scoring.hourly import relisted
from spark_jobs.scoring.id_lists import IdLists
from spark_jobs.scoring.readers import Staged, Stored

BUCKET = datetime(2026, 1, 5, 10, 0)


def test_staged_and_never_listed_users_are_listed_again_the_others_keep_their_list() -> None:
    scored_at = np.array([1.0e9, 1.0e9, np.nan, 1.0e9, 1.0e9])
    staged = Staged(np.array([40, 10]), frozenset([BUCKET]))
    user_ids = np.array([10, 20, 30, 40, 50])
    empty = IdLists.empty(5)
    stored = Stored(user_ids, UserState.unscored(5), np.zeros((5, 15)), staged, 0, scored_at, empty)
    rescored = np.array([0, 1, 2, 3])
    assert relisted(stored, rescored, full=False).tolist() == [0, 2, 3]
    assert relisted(stored, rescored, full=True).tolist() == [0, 1, 2, 3]
