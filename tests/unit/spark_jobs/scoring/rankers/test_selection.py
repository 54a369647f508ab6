import numpy as np
import pytest
import scipy.sparse as sp

from spark_jobs.scoring.rankers.selection import top_n, top_n_sparse
from tests.unit.spark_jobs.scoring.rankers.worlds import matrix


def test_top_n_best_first_without_excluded_or_non_positive_items():
    scores = np.array(
        [[0.5, 0.9, -1.0, 0.0, 0.7], [np.nan, np.inf, 0.2, 0.1, 0.3]], dtype=np.float32
    )
    exclude = matrix({0: [1]}, (2, 5))
    ids, values = top_n(scores, exclude, 4)
    assert ids.tolist() == [[4, 0, -1, -1], [4, 2, 3, -1]]
    np.testing.assert_allclose(values, [[0.7, 0.5, np.nan, np.nan], [0.3, 0.2, 0.1, np.nan]])


def test_top_n_ties_go_to_the_lower_item_row():
    scores = np.array([[1.0, 2.0, 1.0, 1.0, 1.0, 2.0]], dtype=np.float32)
    ids, _ = top_n(scores, sp.csr_matrix((1, 6)), 3)
    assert ids.tolist() == [[1, 5, 0]]


def test_top_n_longer_than_the_catalogue_pads():
    ids, values = top_n(np.array([[3.0, 1.0]]), sp.csr_matrix((1, 2)), 4)
    assert ids.tolist() == [[0, 1, -1, -1]]
    assert np.isnan(values[0, 2:]).all()


@pytest.mark.parametrize("unusable", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_top_n_of_wide_rows_is_the_sorted_rule(dtype, unusable):
    rng = np.random.default_rng(5)
    scores = np.round(rng.standard_normal((60, 2000)), 1).astype(dtype)  # many ties
    if unusable:  # nan and +inf never listed; else only non-positives to skip
        scores[rng.random(scores.shape) < 0.01] = np.nan
        scores[rng.random(scores.shape) < 0.01] = np.inf
    scores[3] = -1.0
    scores[4, 7:] = 0.0  # fewer usable items than the list
    scores[5] = 0.5  # every item tied
    exclude = sp.random(60, 2000, density=0.05, format="csr", random_state=2, dtype=np.float32)
    exclude.sort_indices()
    expected_ids = np.full((60, 20), -1)
    for row in range(60):
        banned = set(exclude.indices[exclude.indptr[row] : exclude.indptr[row + 1]].tolist())
        usable = [
            j
            for j in range(2000)
            if 0 < scores[row, j] < np.inf and j not in banned  # nan fails the comparison
        ]
        ranked = sorted(usable, key=lambda j: (-scores[row, j], j))[:20]
        expected_ids[row, : len(ranked)] = ranked
    ids, values = top_n(scores.copy(), exclude, 20)
    assert ids.tolist() == expected_ids.tolist()
    np.testing.assert_array_equal(
        values,
        np.where(ids >= 0, scores[np.arange(60)[:, None], np.maximum(ids, 0)], np.nan).astype(
            np.float32
        ),
    )


def test_top_n_sparse_follows_the_dense_rule():
    rng = np.random.default_rng(3)
    dense = np.round(rng.random((6, 12)) * 3) - 1  # ties, zeros and negatives
    dense[dense < 0.5] = 0
    dense[0, 4] = np.inf
    exclude = sp.csr_matrix(rng.random((6, 12)) < 0.2)
    exclude.sort_indices()
    expected = top_n(dense.astype(np.float32), exclude, 5)
    got = top_n_sparse(sp.csr_matrix(dense), exclude, 5)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


@pytest.mark.parametrize("seed", range(5))
def test_top_n_sparse_cuts_long_rows_by_the_dense_rule(seed):
    rng = np.random.default_rng(seed)
    dense = np.where(rng.random((40, 300)) < 0.3, np.round(rng.random((40, 300)) * 8), 0.0)
    dense[:, :3] = 8.0  # a tie across the cut in every row
    exclude = sp.csr_matrix(rng.random((40, 300)) < 0.05)
    exclude.sort_indices()
    expected = top_n(dense.astype(np.float32), exclude, 7)
    got = top_n_sparse(sp.csr_matrix(dense, dtype=np.float32), exclude, 7)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_top_n_sparse_skips_excluded_items_that_outscore_the_rest():
    dense = np.array([[9.0, 8.0, 7.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    exclude = sp.csr_matrix(np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 0, 0, 1]], dtype=bool))
    ids, values = top_n_sparse(sp.csr_matrix(dense, dtype=np.float32), exclude, 2)
    assert ids.tolist() == [[5, 4], [4, 3]]
    assert values.tolist() == [[3.0, 2.0], [5.0, 4.0]]


def test_top_n_reads_scores_only_and_takes_exclusions_in_any_order():
    scores = np.array([[0.5, 0.9, 0.7, 0.2], [0.1, 0.4, 0.3, 0.8]], dtype=np.float32)
    unsorted = sp.csr_matrix(
        (np.ones(3), np.array([2, 1, 3]), np.array([0, 2, 3])), shape=(2, 4), dtype=np.float32
    )
    unsorted.has_sorted_indices = False
    kept = scores.copy()
    ids, _ = top_n(scores, unsorted, 2)
    assert ids.tolist() == [[0, 3], [1, 2]]
    np.testing.assert_array_equal(scores, kept)


def test_top_n_sparse_takes_each_row_s_entries_in_any_order():
    shuffled = sp.csr_matrix(
        (
            np.array([1.0, 3.0, 2.0, 3.0, 5.0], dtype=np.float32),
            np.array([4, 0, 2, 3, 1]),
            np.array([0, 4, 5]),
        ),
        shape=(2, 5),
    )
    ids, values = top_n_sparse(shuffled, sp.csr_matrix((2, 5)), 3)
    assert ids.tolist() == [[0, 3, 2], [1, -1, -1]]
    np.testing.assert_array_equal(values[0], [3.0, 3.0, 2.0])
