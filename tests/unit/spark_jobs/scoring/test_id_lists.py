"""IdLists: per-row id lists in two flat arrays, moved whole."""

import numpy as np

from spark_jobs.scoring.id_lists import IdLists


def test_lists_round_trip_with_none_as_empty() -> None:
    lists = IdLists.of([[3, 1], None, [], np.array([7])])
    assert len(lists) == 4
    assert lists.tolist() == [[3, 1], [], [], [7]]
    assert lists.ptr.tolist() == [0, 2, 2, 2, 3] and lists.ids.dtype == np.int64
    assert lists[3].tolist() == [7] and lists.lengths.tolist() == [2, 0, 0, 1]


def test_padded_rows_become_lists_of_their_values() -> None:
    padded = np.array([[2, 0, -1], [-1, -1, -1], [1, -1, -1]])
    lists = IdLists.of_padded(padded, np.array([10, 11, 12]))
    assert lists.tolist() == [[12, 10], [], [11]]


def test_spread_puts_each_list_at_its_row_in_any_order() -> None:
    lists = IdLists.of([[1, 2], [3], []])
    assert lists.spread(np.array([4, 0, 2]), 5).tolist() == [[3], [], [], [], [1, 2]]
    assert IdLists.empty(0).spread(np.zeros(0, dtype=np.int64), 2).tolist() == [[], []]


def test_replaced_swaps_the_named_rows_and_keeps_the_others() -> None:
    lists = IdLists.of([[1, 2], [3], [], [4, 5, 6]])
    new = IdLists.of([[9], [], [7, 8]])
    got = lists.replaced(np.array([3, 0, 2]), new)
    assert got.tolist() == [[], [3], [7, 8], [9]]
    assert lists.replaced(np.zeros(0, dtype=np.int64), IdLists.empty(0)).tolist() == lists.tolist()
