import numpy as np
import pytest
import scipy.sparse as sp

from discorecs.core.catalog import ReleaseCatalog
from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.rankers import base
from spark_jobs.scoring.rankers.base import (
    ItemContent,
    Ranker,
    TrainData,
    binarise,
    ranked_entries,
    ranked_top_entries,
    recommend_in_parts,
    row_stochastic,
    sorted_entries,
    top_n_blocks,
    top_of_ranking,
    usable,
    with_rows,
)
from spark_jobs.scoring.rankers.production import production_hybrid
from spark_jobs.scoring.rankers.selection import top_n
from tests.unit.spark_jobs.scoring.rankers.worlds import content, matrix, train_data, two_groups


def test_top_n_blocks_matches_one_block():
    rng = np.random.default_rng(1)
    scores = rng.random((7, 9)).astype(np.float32)
    exclude = sp.csr_matrix(rng.random((7, 9)) < 0.3)
    whole = top_n(scores.copy(), exclude, 4)
    assert base.chunk_rows(9, cells=20) == 2
    blocked = top_n_blocks(lambda lo, hi: scores[lo:hi].copy(), exclude, 4, cells=20)
    np.testing.assert_array_equal(blocked[0], whole[0])
    np.testing.assert_array_equal(blocked[1], whole[1])


def test_top_of_ranking_skips_each_rows_items():
    exclude = matrix({0: [3], 1: [0, 1, 3]}, (3, 5))
    ids = top_of_ranking(np.array([3, 1, 0, 2]), exclude, 3)
    assert ids.tolist() == [[1, 0, 2], [2, -1, -1], [3, 1, 0]]


def test_with_rows_replaces_only_the_given_users():
    m = matrix({0: [0], 1: [1], 2: [2]}, (3, 3))
    out = with_rows(m, np.array([2, 0]), matrix({0: [1], 1: [0, 1]}, (2, 3)))
    assert out.toarray().tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]


def test_binarise_keeps_positive_entries_as_ones():
    m = sp.csr_matrix(np.array([[2.0, 0.0, -1.0], [0.5, 0.0, 0.0]]))
    assert binarise(m).toarray().tolist() == [[1, 0, 0], [1, 0, 0]]


def test_train_data_owners_and_content():
    train = train_data({0: [0, 2], 1: [2]}, (2, 4))
    assert train.owners.tolist() == [1, 0, 2, 0]
    assert train.now == 3 * 86_400.0
    with pytest.raises(ValueError, match="x needs item content"):
        train.require_content("x")


def test_item_content_from_catalog():
    catalog = ReleaseCatalog.from_records(
        [
            (7, ["Rock", "Jazz"], ["Punk"], ["A", "B"], ["L"], 1977),
            (9, ["Rock"], [], ["A"], [], None),
        ]
    )
    content = ItemContent.from_catalog(catalog)
    assert content.genres.shape == (2, 15)
    assert content.genres.toarray()[0, [8, 13]].tolist() == [0.5, 0.5]
    assert content.decades.tolist() == [197, -1]
    assert content.artists.toarray().tolist() == [[1, 1], [1, 0]]
    assert content.styles.toarray().tolist() == [[1.0], [0.0]]
    assert content.labels.shape == (2, 1)


@pytest.mark.parametrize(
    ("dtype", "n_columns"), [(np.float32, 300), (np.float64, 300), (np.float32, 1 << 30)]
)
def test_sorted_entries_orders_as_a_three_key_sort(dtype, n_columns):
    # float32 with small numbers is the one-key path; float64 and wide columns the lexsort
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 50, 4000)
    columns = rng.integers(0, n_columns, 4000)
    values = (np.round(rng.random(4000) * 20) + 1).astype(dtype) / 7  # many ties
    values[:5] = np.array([np.finfo(dtype).tiny, np.finfo(dtype).max, 1e-40, 1.0, 3.0], dtype)
    order = np.lexsort((columns, -values, rows))
    got = sorted_entries(rows, columns, values)
    for part, whole in zip(got, (rows, columns, values), strict=True):
        np.testing.assert_array_equal(part, whole[order])
        assert part.dtype == whole.dtype


@pytest.mark.parametrize("seed", range(5))
def test_ranked_top_entries_ranks_the_top_n_as_a_full_sort_does(seed):
    rng = np.random.default_rng(seed)
    dense = np.where(rng.random((30, 200)) < 0.4, np.round(rng.random((30, 200)) * 6) - 1, 0.0)
    dense[:, :4] = 5.0  # a tie across the cut in every row
    dense[0, 7] = np.inf
    coo = sp.csr_matrix(dense).tocoo()
    every = ranked_entries(coo.row, coo.col, coo.data, 30)
    cut = ranked_top_entries(coo.row, coo.col, coo.data, 30, 6)
    for whole, part in zip(every, cut, strict=True):
        np.testing.assert_array_equal(part[cut[1] < 6], whole[every[1] < 6])
    wanted = rng.integers(1, 12, size=30)
    per_row = ranked_top_entries(coo.row, coo.col, coo.data, 30, wanted)
    for whole, part in zip(every, per_row, strict=True):
        np.testing.assert_array_equal(
            part[per_row[1] < wanted[per_row[0]]], whole[every[1] < wanted[every[0]]]
        )


def test_top_n_blocks_ranks_sparse_blocks_as_dense_ones():
    rng = np.random.default_rng(4)
    scores = sp.csr_matrix(np.where(rng.random((5, 8)) < 0.4, rng.random((5, 8)), 0.0))
    exclude = sp.csr_matrix(rng.random((5, 8)) < 0.2)
    exclude.sort_indices()
    expected = top_n(scores.toarray(), exclude, 3)
    got = top_n_blocks(lambda lo, hi: scores[lo:hi], exclude, 3, cells=20)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1])


class CountingRanker(base.Ranker):
    name = "counting"

    def __init__(self) -> None:
        self.fits = 0

    def _fit(self, train: base.TrainData) -> None:
        self.fits += 1

    def recommend(self, users, n, user_items=None):
        return np.zeros((len(users), n), dtype=np.int64), np.zeros((len(users), n))


def test_fitting_again_on_the_same_data_keeps_the_fit_and_new_data_refits():
    ranker = CountingRanker()
    first = train_data({0: [0], 1: [1]}, (2, 2))
    ranker.fit(first)
    ranker.fit(first)
    assert ranker.fits == 1
    ranker.fit(train_data({0: [0], 1: [1]}, (2, 2)))
    assert ranker.fits == 2


def test_row_stochastic_leaves_empty_rows_empty():
    m = row_stochastic(matrix({0: [0, 1]}, (2, 2)))
    assert m.toarray().tolist() == [[0.5, 0.5], [0, 0]]


def test_row_stochastic_divides_each_row_by_its_sum():
    m = row_stochastic(sp.csr_matrix(np.array([[3.0, 1.0], [0.0, 0.0]]))).toarray()
    np.testing.assert_allclose(m, [[0.75, 0.25], [0.0, 0.0]])


def test_activity_is_cut_by_each_pairs_first_event() -> None:
    activity = sp.csr_matrix(np.array([[2, 0, 1], [0, 3, 0]], dtype=np.float32))
    first = sp.csr_matrix(np.array([[5.0, 0, 9.0], [0, 2.0, 0]]))
    train = TrainData(
        sp.csr_matrix((2, 3), dtype=np.float32), sp.csr_matrix((2, 3)), 10.0, None, activity, first
    )
    counts, at = train.activity_before(np.array([6.0, 2.0]))
    assert counts is not None and at is not None
    assert counts.toarray().tolist() == [[2, 0, 0], [0, 0, 0]]
    assert at.toarray().tolist() == [[5.0, 0, 0], [0, 0, 0]]
    whole = TrainData(train.user_items, train.added_at, 10.0, None, activity)
    assert whole.activity_before(np.array([0.0, 0.0]))[0] is activity
    other = TrainData(train.user_items, train.added_at, 10.0, None, activity, first[:, [1, 0, 2]])
    with pytest.raises(ValueError, match="same sparsity"):
        other.activity_before(np.array([6.0, 2.0]))


def test_content_rankers_are_usable_only_with_content() -> None:
    class Plain(Ranker):
        def _fit(self, train: TrainData) -> None:
            """Nothing to learn."""

        def recommend(self, users, n, user_items=None):
            raise NotImplementedError

    class Contentful(Plain):
        needs_content = True

    plain, contentful = Plain(), Contentful()
    without = train_data({0: [0]}, (1, 2))
    assert usable([plain, contentful], without) == [plain]
    with_content = TrainData(without.user_items, without.added_at, without.now, content([[0], [1]]))
    assert usable([plain, contentful], with_content) == [plain, contentful]


@pytest.mark.parametrize(("threads", "part"), [(2, 3), (3, 7), (1, 3), (2, 100)])
def test_lists_in_parts_on_threads_are_the_lists_of_one_call(threads, part):
    hybrid = production_hybrid(ScoringSettings())
    hybrid.fit(two_groups())
    users = np.array([0, 3, 5, 11, 19, 20, 22, 30, 31, 39, 2, 25], dtype=np.int64)

    listed: list[int] = []

    ids, scores = recommend_in_parts(hybrid, users, 5, threads, part, progress=listed.append)

    whole_ids, whole_scores = hybrid.recommend(users, 5)
    np.testing.assert_array_equal(ids, whole_ids)
    np.testing.assert_allclose(scores, whole_scores, rtol=1e-6)
    whole_parts = [min(part, len(users) - start) for start in range(0, len(users), part)]
    assert listed == (whole_parts if part < len(users) else []), "each part told, in order"
