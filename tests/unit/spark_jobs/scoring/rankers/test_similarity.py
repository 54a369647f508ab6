import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.similarity import keep_top_k, row_blocks, top_k_product


def test_keep_top_k_keeps_the_largest_positive_entries_ties_to_lower_column():
    block = sp.csr_matrix(np.array([[0.0, 2.0, 1.0, 2.0], [0.0, -1.0, 0.5, 0.0]]))
    kept = keep_top_k(block, 2).toarray()
    assert kept.tolist() == [[0, 2, 0, 2], [0, 0, 0.5, 0]]
    assert keep_top_k(block, 1).toarray().tolist() == [[0, 2, 0, 0], [0, 0, 0.5, 0]]


def test_keep_top_k_cuts_long_rows_as_a_full_sort_does():
    rng = np.random.default_rng(3)
    dense = np.where(rng.random((20, 150)) < 0.5, np.round(rng.random((20, 150)) * 5), 0.0)
    dense[:, 10:13] = 9.0  # a tie across the cut in every row
    kept = keep_top_k(sp.csr_matrix(dense), 2).toarray()
    expected = np.zeros_like(dense)
    for row, values in enumerate(dense):
        best = np.lexsort((np.arange(150), -values))[:2]
        expected[row, best] = values[best]
    np.testing.assert_array_equal(kept, expected)


def test_row_blocks_cover_every_row_once():
    assert row_blocks(np.array([3.0, 3.0, 10.0, 1.0, 1.0]), 5) == [(0, 1), (1, 2), (2, 5)]
    assert row_blocks(np.array([1.0, 1.0]), 100) == [(0, 2)]


def test_top_k_product_is_independent_of_the_block_size_and_the_threads():
    rng = np.random.default_rng(0)
    x = sp.csr_matrix((rng.random((30, 12)) < 0.3).astype(np.float32))
    left, right = x.T.tocsr(), x

    def same(values, rows, columns):
        return values

    dense = (x.T @ x).toarray()
    np.fill_diagonal(dense, 0)
    whole = top_k_product(left, right, same, k=12).toarray()
    np.testing.assert_allclose(whole, dense)
    small = top_k_product(left, right, same, k=3, budget=4).toarray()
    np.testing.assert_allclose(small, top_k_product(left, right, same, k=3).toarray())
    assert ((small > 0).sum(axis=1) <= 3).all()
    for threads in (1, 3):
        threaded = top_k_product(left, right, same, k=3, budget=4, threads=threads)
        np.testing.assert_array_equal(threaded.toarray(), small)


def test_top_k_product_of_no_items_is_empty():
    x = sp.csr_matrix((3, 0), dtype=np.float32)
    product = top_k_product(x.T.tocsr(), x, lambda values, rows, columns: values, k=2)
    assert product.shape == (0, 0) and product.dtype == np.float32
