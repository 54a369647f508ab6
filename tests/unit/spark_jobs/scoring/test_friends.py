"""Nearest neighbours by cosine (HNSW over distinct tastes), the recall@1 check, and the friend
chosen among the nearest by similarity weighted by how well each neighbour is known."""

from collections.abc import Callable

import faiss
import numpy as np
import pytest

from discorecs.core.settings import ScoringSettings
from spark_jobs.scoring.friends import (
    Neighbours,
    TasteIndex,
    distinct_rows,
    exact_best_similarity,
    find_rows,
    l2_normalise,
    locality_order,
    recall_at_1,
    reliable_first,
    row_hashes,
)


def unit(*rows):
    x = np.array(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_known_nearest_neighbours_never_self() -> None:
    taste = unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.95, 0.05], [0, 0, 1])
    nb = TasteIndex(taste).neighbours(2)
    assert nb.friend.tolist() == [1, 0, 3, 2, 3]
    assert (nb.ids != np.arange(5)[:, None]).all()
    assert nb.friend_similarity[0] == pytest.approx(float(taste[0] @ taste[1]), abs=1e-6)


def test_identical_vectors_are_friends_in_rotation() -> None:
    taste = unit([1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0.9, 0.1])
    nb = TasteIndex(taste).neighbours(3)
    assert nb.friend[:3].tolist() == [1, 2, 0]
    assert np.allclose(nb.friend_similarity[:3], 1.0)
    assert nb.ids[0].tolist()[:2] == [1, 2]
    assert nb.friend[3] == 4


def test_each_other_taste_lends_the_member_at_the_users_place_modulo_its_size() -> None:
    taste = unit([1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0.9, 0.1, 0])
    nb = TasteIndex(taste).neighbours(3)
    # mates first, in rotation; then one member of each nearer other taste: row r takes that
    # taste's member r % its size (rows 0-2 share a taste, rows 3-4 another, row 5 is alone)
    assert nb.ids.tolist() == [[1, 2, 5], [2, 0, 5], [0, 1, 5], [4, 5, 0], [3, 5, 1], [2, 4, -1]]
    assert nb.sims[3].tolist() == pytest.approx([1.0, float(taste[3] @ taste[5]), 0.0], abs=1e-6)
    assert np.isnan(nb.sims[5, 2])


def test_more_neighbours_asked_than_users_never_lists_self() -> None:
    taste = unit([1, 0], [1, 0], [1, 1], [0, 1])
    nb = TasteIndex(taste).neighbours(10)
    # one member per other distinct taste, the mates of the user's own taste, never self
    assert [sorted(row[row >= 0].tolist()) for row in nb.ids] == [
        [1, 2, 3],
        [0, 2, 3],
        [0, 3],
        [1, 2],
    ]
    assert np.isnan(nb.sims[nb.ids < 0]).all()


def test_one_distinct_taste_has_only_its_mates() -> None:
    taste = unit([1, 1, 0], [2, 2, 0], [1, 1, 0])
    nb = TasteIndex(taste).neighbours(3)
    assert nb.ids.tolist() == [[1, 2, -1], [2, 0, -1], [0, 1, -1]]
    assert np.isnan(nb.sims[:, 2]).all()


def test_no_taste_means_no_friend_and_never_a_friend() -> None:
    taste = np.zeros((4, 3), dtype=np.float32)
    taste[0], taste[1], taste[3] = [1, 0, 0], [0.8, 0.2, 0], [0, 0, 1]
    nb = TasteIndex(taste).neighbours(2)
    assert nb.friend[2] == -1
    assert 2 not in nb.ids[[0, 1, 3]]
    alone = TasteIndex(np.array([[1, 0, 0], [0, 0, 0]], dtype=np.float32)).neighbours(2)
    assert (alone.ids == -1).all()


def test_only_requested_rows_are_searched() -> None:
    taste = unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0])
    nb = TasteIndex(taste, ScoringSettings(ann_m=8, ann_ef_search=16)).neighbours(
        1, rows=np.array([2])
    )
    assert nb.friend.tolist() == [-1, -1, 1]


def test_nearest_answers_the_rows_asked_in_their_order() -> None:
    taste = random_tastes(np.random.default_rng(4), 400)
    taste[7] = 0
    index = TasteIndex(taste, ScoringSettings(ann_m=8, ann_ef_search=64))
    rows = np.array([399, 7, 3, 200, 3])
    ids, sims = index.nearest(5, rows)
    everyone = index.neighbours(5)
    np.testing.assert_array_equal(ids, everyone.ids[rows])
    np.testing.assert_array_equal(sims, everyone.sims[rows])
    assert (ids[1] == -1).all()


def queries_searched(call: Callable[[], object]) -> int:
    """HNSW queries faiss ran during ``call`` (its own search statistics)."""
    faiss.cvar.hnsw_stats.reset()
    call()
    return int(faiss.cvar.hnsw_stats.n1)


def test_rows_the_last_neighbours_searched_are_answered_without_a_search() -> None:
    taste = random_tastes(np.random.default_rng(5), 300)
    index = TasteIndex(taste, ScoringSettings(ann_m=8, ann_ef_search=64))
    some = index.neighbours(4, rows=np.arange(0, 300, 2))
    rows = np.array([10, 0, 298, 10])
    ids, sims = index.nearest(4, rows)
    np.testing.assert_array_equal(ids, some.ids[rows])
    np.testing.assert_array_equal(sims, some.sims[rows])
    assert queries_searched(lambda: index.nearest(4, rows)) == 0
    assert queries_searched(lambda: index.nearest(4, np.array([10, 11]))) > 0
    assert queries_searched(lambda: index.nearest(3, np.array([10]))) > 0


def random_tastes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sparse non-negative 15-genre tastes, many of them shared."""
    taste = rng.random((n, 15)).astype(np.float32) * (rng.random((n, 15)) < 0.2)
    taste[: n // 4] = taste[n // 4 : n // 2]
    return taste


def test_an_extended_index_answers_as_a_new_one_and_never_with_a_stale_vector() -> None:
    rng = np.random.default_rng(3)
    before = random_tastes(rng, 400)
    earlier = TasteIndex(before).vectors
    after = before.copy()
    after[300:340] = random_tastes(rng, 40)
    extended = TasteIndex(after, earlier=earlier)
    fresh = TasteIndex(after)
    assert not extended.rebuilt and fresh.rebuilt
    assert extended.vectors is not None and earlier is not None
    assert len(extended.vectors.vectors) > len(extended.unique), "stale vectors stay in the graph"
    got, want = extended.neighbours(5), fresh.neighbours(5)
    np.testing.assert_array_equal(got.ids, want.ids)
    np.testing.assert_allclose(got.sims, want.sims, rtol=1e-6)


def test_an_index_mostly_stale_is_built_anew() -> None:
    rng = np.random.default_rng(4)
    before = random_tastes(rng, 200)
    earlier = TasteIndex(before).vectors
    after = random_tastes(rng, 200)
    tuning = ScoringSettings(ann_stale_share=0.2)
    rebuilt = TasteIndex(after, tuning, earlier)
    assert rebuilt.rebuilt
    assert rebuilt.vectors is not None
    assert len(rebuilt.vectors.vectors) == len(rebuilt.unique)


@pytest.mark.parametrize("collide", [False, True])
def test_distinct_rows_as_numpy_unique(collide: bool) -> None:
    rows = np.array([[0, 1], [1, 0], [0, 1], [0.5, 0.5], [1, 0], [0, 1]], dtype=np.float32)
    keys = np.zeros(len(rows), dtype=np.uint64) if collide else row_hashes(rows)
    unique, inverse, counts = distinct_rows(rows, keys)
    assert sorted(map(tuple, unique.tolist())) == [(0, 1), (0.5, 0.5), (1, 0)]
    np.testing.assert_array_equal(unique[inverse.reshape(-1)], rows)
    assert dict(zip(map(tuple, unique.tolist()), counts.tolist(), strict=True)) == {
        (0, 1): 3,
        (1, 0): 2,
        (0.5, 0.5): 1,
    }


def known_and_wanted() -> tuple[np.ndarray, np.ndarray]:
    """Distinct non-zero rows, and their rows from the sixth on followed by three new ones."""
    rng = np.random.default_rng(5)
    known = np.unique(l2_normalise(random_tastes(rng, 80)), axis=0)[1:]
    return known, np.vstack([known[5:], l2_normalise(rng.random((3, 15)))])


def test_rows_are_found_by_their_hashes() -> None:
    known, wanted = known_and_wanted()
    ids = find_rows(known, wanted, row_hashes(known), row_hashes(wanted))
    assert ids.tolist() == list(range(5, len(known))) + [-1, -1, -1]


def test_rows_sharing_a_key_are_not_taken_for_each_other() -> None:
    known, wanted = known_and_wanted()
    shared = np.zeros(len(known), dtype=np.uint64)
    ids = find_rows(known, wanted, shared, np.zeros(len(wanted), dtype=np.uint64))
    found = ids >= 0
    np.testing.assert_array_equal(known[ids[found]], wanted[found])
    assert not found[-3:].any()


def test_locality_order_groups_vectors_by_their_largest_components() -> None:
    vectors = np.array(
        [[0.1, 0.2, 0.7], [0.8, 0.1, 0.1], [0.2, 0.1, 0.7], [0.7, 0.2, 0.1], [0.1, 0.8, 0.1]]
    )
    # keys (largest first): (2,1,0), (0,1,2), (2,0,1), (0,1,2), (1,0,2)
    assert locality_order(vectors).tolist() == [1, 3, 4, 2, 0]
    assert locality_order(vectors, width=1).tolist() == [1, 3, 4, 0, 2]


def test_l2_normalise_keeps_zero_rows() -> None:
    x = l2_normalise(np.array([[3, 4], [0, 0]]))
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, [[0.6, 0.8], [0.0, 0.0]])


def test_recall_check_counts_ties_as_correct() -> None:
    rng = np.random.default_rng(1)
    base = rng.random((50, 8)).astype(np.float32)
    taste = np.repeat(base, 4, axis=0)
    nb = TasteIndex(taste).neighbours(1)
    recall, sample = recall_at_1(taste, nb.friend, sample_size=100)
    assert recall == 1.0 and sample == 100
    wrong = (nb.friend + 17) % len(taste)
    assert recall_at_1(taste, wrong, sample_size=100)[0] < 0.2


def test_recall_of_fewer_than_two_tastes_is_one_over_an_empty_sample() -> None:
    taste = np.array([[1, 0], [0, 0]], dtype=np.float32)
    assert recall_at_1(taste, np.array([-1, -1])) == (1.0, 0)


def test_exact_best_similarity_excludes_self() -> None:
    taste = unit([1, 0], [0.6, 0.8], [0, 1])
    best = exact_best_similarity(taste, np.array([0, 2]))
    np.testing.assert_allclose(best, [0.6, 0.8], rtol=1e-6)


def test_ann_matches_exact_on_random_data() -> None:
    rng = np.random.default_rng(2)
    taste = rng.dirichlet(np.full(15, 0.3), size=5000).astype(np.float32)
    nb = TasteIndex(taste).neighbours(5)
    sample = np.arange(0, 5000, 10)
    best = exact_best_similarity(taste, sample)
    assert recall_at_1(taste, nb.friend, sample_size=1000)[0] >= 0.99
    assert best.shape == (500,)
    found = np.einsum(
        "ij,ij->i", l2_normalise(taste)[sample], l2_normalise(taste)[nb.friend[sample]]
    )
    assert (found <= best + 1e-5).all()


def test_a_well_known_neighbour_beats_a_slightly_closer_stranger() -> None:
    nearest = Neighbours(np.array([[1, 2, -1]]), np.array([[0.99, 0.95, np.nan]], np.float32))
    sizes = np.array([5, 1, 40])
    chosen = reliable_first(nearest, sizes, prior=1.0)
    # 0.99 * 1/2 = 0.495 against 0.95 * 40/41 = 0.927
    assert chosen.ids.tolist() == [[2, 1, -1]]
    assert chosen.friend_similarity[0] == np.float32(0.95)


def test_no_prior_keeps_the_ann_order() -> None:
    nearest = Neighbours(np.array([[1, 2]]), np.array([[0.99, 0.95]], np.float32))
    assert reliable_first(nearest, np.array([0, 1, 40]), prior=0.0) is nearest
