import numpy as np
import pytest
import scipy.sparse as sp

from spark_jobs.scoring.rankers.split import temporal_split


def world():
    """User 0: 10 items, the last two (by time) 8 and 3 tie at time 100; user 1: 4 items;
    user 2: 5 items (times falling with the rows); user 3: 8 items; user 4: none."""
    entries = []
    entries += [(0, i, float(i)) for i in (0, 1, 2, 4, 5, 6, 7, 9)]
    entries += [(0, 3, 100.0), (0, 8, 100.0)]
    entries += [(1, i, 50.0 + i) for i in range(4)]
    entries += [(2, i, 10.0 - i) for i in range(5)]
    entries += [(3, i, 200.0 + i) for i in range(8)]
    users, items, times = (np.array(x) for x in zip(*entries, strict=True))
    weights = sp.csr_matrix(
        (np.arange(1, len(users) + 1, dtype=np.float32), (users, items)), shape=(5, 10)
    )
    stamps = sp.csr_matrix((times, (users, items)), shape=(5, 10))
    return weights, stamps


def test_latest_share_of_each_user_with_enough_items():
    weights, stamps = world()
    split = temporal_split(weights, stamps, holdout=0.2, min_items=5)
    assert split.test_users.tolist() == [0, 2, 3]
    assert split.cold_users.tolist() == [1]
    test = split.test.tolil().rows
    assert test[0] == [3, 8], "2 of 10: both at time 100"
    assert test[1] == [3], "4 items: a cold-start user, the latest one held out"
    assert test[2] == [0], "1 of 5: times fall with the rows, row 0 is the latest"
    assert test[3] == [6, 7], "8 * 0.2 = 1.6 rounds to 2"
    assert (split.train + split.test != weights).nnz == 0, "a partition, weights kept"
    assert split.now == 205.0
    assert split.train_added_at.nnz == split.train.nnz
    assert split.test_added_at[0].data.tolist() == [100.0, 100.0]
    assert split.test_rows().shape == (3, 10)
    assert split.test_rows()[1].indices.tolist() == [0]


def test_cold_start_set_can_be_left_in_training():
    weights, stamps = world()
    split = temporal_split(weights, stamps, cold_min_items=5)
    assert split.cold_users.tolist() == []
    assert split.test[1].nnz == 0 and split.train[1].nnz == 4
    lonely = temporal_split(weights[1:2], stamps[1:2], min_items=5, cold_min_items=4)
    assert lonely.cold_users.tolist() == [0] and lonely.train.nnz == 3


def test_ties_in_time_go_by_item_row():
    weights, stamps = world()
    split = temporal_split(weights, stamps, holdout=0.1, min_items=5)
    assert split.test.tolil().rows[0] == [8]
    assert split.test.tolil().rows[3] == [7], "0.8 rounds to 1, and never fewer than 1"


def test_bad_inputs_are_errors():
    weights, stamps = world()
    with pytest.raises(ValueError, match="sparsity"):
        temporal_split(weights, stamps[:, ::-1])
    with pytest.raises(ValueError, match="holdout"):
        temporal_split(weights, stamps, holdout=1.0)


def test_cuts_are_each_users_first_held_out_add_else_now():
    weights, stamps = world()
    split = temporal_split(weights, stamps, holdout=0.2, min_items=5)
    assert split.cuts().tolist() == [100.0, 53.0, 10.0, 206.0, 205.0]


def test_only_the_chosen_users_hold_items_out():
    weights, stamps = world()
    everyone = temporal_split(weights, stamps, holdout=0.2, min_items=5)
    split = temporal_split(weights, stamps, holdout=0.2, min_items=5, users=np.array([1, 3]))
    assert split.test_users.tolist() == [3]
    assert split.cold_users.tolist() == [1]
    for row in (1, 3):
        assert split.test[row].indices.tolist() == everyone.test[row].indices.tolist()
        assert split.train[row].indices.tolist() == everyone.train[row].indices.tolist()
    for row in (0, 2, 4):
        assert split.test[row].nnz == 0
        assert (split.train[row] != weights[row]).nnz == 0
    assert (split.train + split.test != weights).nnz == 0
    assert split.train_added_at.nnz == split.train.nnz
    assert split.now == 205.0
