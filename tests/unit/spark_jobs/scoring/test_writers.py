"""The ``users_scored`` rows of a run: every column for listed users, the friend's for others."""

from datetime import datetime

import numpy as np

from discorecs.core.settings import ScoringSettings
from discorecs.core.tables import USERS_SCORED
from spark_jobs.scoring.compute import UserState, score
from spark_jobs.scoring.id_lists import IdLists
from spark_jobs.scoring.readers import NOTHING_STAGED, Stored
from spark_jobs.scoring.recommend import Ranked
from spark_jobs.scoring.writers import FRIEND_COLUMNS, ScoredRecords, parts
from tests.unit.spark_jobs.scoring.worlds import world

AT = datetime(2026, 1, 5, 10, 0)


def test_only_listed_users_get_their_list_taste_and_scored_at_written() -> None:
    genres = [["Rock"], ["Rock"], ["Jazz"], ["Jazz"], ["Pop"]]
    owned = {0: [0, 1], 1: [0, 1, 2], 2: [2, 3], 3: [0, 2, 3]}
    c, features = world(owned, genres, 4)
    state = UserState.unscored(4)
    scores = score(features, state, np.arange(0), lambda rows: c, tuning=ScoringSettings())
    scores.listed = np.array([1, 3])
    scores.recommendations = Ranked(
        np.array([[4, -1], [1, 4]]), np.array([[0.5, np.nan], [0.75, 0.25]], dtype=np.float32)
    )
    user_ids = np.array([10, 20, 30, 40])
    nan = np.full(4, np.nan)
    ranks = np.zeros((4, 15), np.int16)
    stored = Stored(user_ids, state, ranks, NOTHING_STAGED, 0, nan, IdLists.empty(4))
    release_ids = np.array([101, 102, 103, 104, 105])
    records = ScoredRecords(stored, release_ids, scores, {105: "Five"}, AT)
    full = records(np.array([1, 3]))
    friends = records(np.array([0, 2]), FRIEND_COLUMNS)
    columns = USERS_SCORED.column_names
    assert [r[0] for r in full] == [20, 40]
    assert all(len(r) == len(columns) for r in full)
    listed = {r[0]: r[columns.index("recommendations")] for r in full}
    assert listed == {20: [(105, "Five", 0.5)], 40: [(102, None, 0.75), (105, "Five", 0.25)]}
    assert {r[columns.index("scored_at")] for r in full} == {AT}
    assert [r[0] for r in friends] == [10, 30]
    assert all(len(r) == len(FRIEND_COLUMNS) for r in friends)
    assert "taste" not in FRIEND_COLUMNS and "scored_at" not in FRIEND_COLUMNS
    friend = scores.neighbours.friend[0]
    assert friends[0][FRIEND_COLUMNS.index("friend_id")] == user_ids[friend]


def test_a_user_not_listed_gets_an_empty_list_in_a_full_row() -> None:
    c, features = world({0: [0], 1: [0, 1]}, [["Rock"], ["Rock"]], 2)
    state = UserState.unscored(2)
    scores = score(features, state, np.arange(0), lambda rows: c, tuning=ScoringSettings())
    scores.listed = np.array([], dtype=np.int64)
    scores.recommendations = Ranked(np.zeros((0, 2), np.int64), np.zeros((0, 2), np.float32))
    nan = np.full(2, np.nan)
    stored = Stored(
        np.array([7, 8]),
        state,
        np.zeros((2, 15), np.int16),
        NOTHING_STAGED,
        0,
        nan,
        IdLists.empty(2),
    )
    (row,) = ScoredRecords(stored, np.array([1, 2]), scores, {}, AT)(np.array([1]))
    columns = USERS_SCORED.column_names
    assert row[0] == 8 and row[columns.index("recommendations")] == []


def test_parts_cover_every_item_once_in_order() -> None:
    assert parts(7, 3) == [slice(0, 3), slice(3, 6), slice(6, 9)]
    assert parts(0, 3) == []
    assert [x for at in parts(7, 3) for x in list(range(7))[at]] == list(range(7))
