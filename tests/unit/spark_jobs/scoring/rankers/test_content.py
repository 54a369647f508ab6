from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import ItemContent
from spark_jobs.scoring.rankers.content import (
    ContentBased,
    discounted_shares,
    feature_sets,
    members,
    merge_lists,
)
from tests.unit.spark_jobs.scoring.rankers.worlds import content, train_data

# Items 0-2 by artist 0 (item 2 owned by nobody), items 3-5 by artist 1, all genre 0, years
# unknown (so the era is the same for every item and cancels out).
# User 0 owns items 0, 1 and 3; owners [1, 1, 0, 3, 3, 2], so with smoothing 1 the popularity
# is [2, 2, 1, 4, 4, 3]: 16 in the genre, 5 for artist 0 and 11 for artist 1.
OWNED = {0: [0, 1, 3], 1: [3, 4, 5], 2: [3, 4], 3: [4, 5]}
ARTISTS = [[0], [0], [0], [1], [1], [1]]
UNKNOWN_YEARS = content([[0]] * 6, artists=ARTISTS, decades=[-1] * 6)


def fitted(
    item_content: ItemContent = UNKNOWN_YEARS,
    activity: sp.csr_matrix | None = None,
    **parameters: Any,
) -> ContentBased:
    ranker = ContentBased(smoothing=1.0, **parameters)
    ranker.fit(train_data(OWNED, (5, 6), item_content=item_content, activity=activity))
    return ranker


def listed(ranker: ContentBased, user: int, n: int) -> dict[int, float]:
    ids, scores = ranker.recommend(np.array([user]), n)
    return dict(zip(ids[0].tolist(), scores[0].tolist(), strict=True))


def test_one_genre_lists_its_releases_by_popularity_over_the_genre_total():
    ids, scores = fitted(genre=1.0, style=0.0, artist=0.0, label=0.0).recommend(np.array([0]), 3)
    assert ids.tolist() == [[4, 5, 2]]
    np.testing.assert_allclose(scores[0], [4 / 16, 3 / 16, 1 / 16], rtol=1e-6)


def test_artist_counts_are_discounted_before_they_become_shares():
    only_artists: dict[str, Any] = {"genre": 0.0, "style": 0.0, "artist": 1.0, "label": 0.0}
    # counts [2, 1] less 0.5 are shares [3/4, 1/4]; item 2 is 1/5 of artist 0, item 4 4/11 of 1
    discounted = listed(fitted(discount=0.5, **only_artists), 0, 3)
    assert discounted == pytest.approx({2: 3 / 4 / 5, 4: 1 / 4 * 4 / 11, 5: 1 / 4 * 3 / 11})
    plain = listed(fitted(discount=0.0, **only_artists), 0, 3)
    assert plain == pytest.approx({2: 2 / 3 / 5, 4: 1 / 3 * 4 / 11, 5: 1 / 3 * 3 / 11})


def test_an_unowned_release_of_the_favourite_artist_beats_the_genre_s_popular_ones():
    ids, _ = fitted().recommend(np.array([0]), 1)
    assert ids.tolist() == [[2]]


def test_the_era_affinity_weighs_each_release_and_its_feature_s_normaliser():
    decades = [197, 197, 198, 199, 199, -1]
    ranker = fitted(content([[0]] * 6, decades=decades), genre=1.0, artist=0.0, label=0.0)
    affinity = ranker.era.affinity(np.array([[2.0, 0.0, 1.0, 0.0]]))[0]
    popularity = np.array([2, 2, 1, 4, 4, 3]) * affinity[[0, 0, 1, 2, 2, 3]]
    expected = {i: popularity[i] / popularity.sum() for i in (2, 4, 5)}
    assert listed(ranker, 0, 3) == pytest.approx(expected, rel=1e-5)


def test_a_user_without_items_is_profiled_from_activity():
    activity = sp.csr_matrix(([2.0], ([4], [3])), shape=(5, 6))
    ids, _ = fitted(activity=activity).recommend(np.array([4]), 2)
    assert ids.tolist() == [[3, 4]], "viewed is not owned: item 3 itself is listed"
    nothing, _ = fitted().recommend(np.array([4]), 2)
    assert nothing.tolist() == [[-1, -1]]


def test_activity_joins_the_profile_at_its_weight():
    activity = sp.csr_matrix(([1.0, 1.0], ([0, 0], [4, 5])), shape=(5, 6))
    lists = {w: listed(fitted(activity=activity, activity_weight=w), 0, 3) for w in (0, 1, 10)}
    assert next(iter(lists[0])) == 2, "without weight the owned artist's release comes first"
    assert next(iter(lists[10])) in (4, 5), "heavy views of artist 1 turn the profile"
    assert lists[0][4] < lists[1][4] < lists[10][4]


def test_members_holds_each_item_s_popularity_under_its_features():
    features = sp.csr_matrix(np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 2.0]]))
    m = members(features, np.array([1.0, 3.0, 4.0])).toarray()
    np.testing.assert_allclose(m, [[1, 3, 0], [0, 3, 4]])


def test_members_leaves_the_features_it_reads_as_they_were():
    features = sp.csr_matrix(np.array([[0.5, 0.5], [1.0, 0.0]], dtype=np.float32))
    members(features, np.array([1.0, 2.0]))
    np.testing.assert_allclose(features.toarray(), [[0.5, 0.5], [1.0, 0.0]])


def test_fitting_leaves_the_training_content_to_the_rankers_fitted_after_it():
    # Item 2 has two genres, 1/2 each: content counts it once under each genre, and the
    # training data keeps its halves (the neighbours' tastes and the calibration read them).
    item_content = content([[0], [0], [0, 1], [1], [1], [1]], artists=ARTISTS)
    genres, styles = item_content.genres.copy(), item_content.styles.copy()
    fitted(item_content)
    assert (item_content.genres != genres).nnz == 0
    assert (item_content.styles != styles).nnz == 0


def test_discounted_shares_drop_counts_at_or_below_the_discount():
    counts = sp.csr_matrix(np.array([[2.0, 1.0, 0.5], [0.5, 0.0, 0.0]]))
    shares = discounted_shares(counts, 0.5).toarray()
    np.testing.assert_allclose(shares, [[0.75, 0.25, 0.0], [0.0, 0.0, 0.0]])


def test_pair_features_are_the_parts_of_the_score():
    decades = [197, 197, 198, 199, 199, -1]
    ranker = fitted(content([[0]] * 6, artists=ARTISTS, decades=decades))
    users, rows = np.array([0, 1]), ranker.train.user_items[[0, 1]]
    full = ranker.scores(users, rows)
    positions, items = np.array([0, 0, 1, 1]), np.array([2, 4, 0, 2])
    parts = ranker.pair_parts(ranker.mixture(users, rows), positions, items)
    mixture = sum(ranker.weights[b] * parts[f"content_{b}"] for b in ("genre", "artist"))
    np.testing.assert_allclose(mixture * parts["content_era"], full[positions, items], rtol=1e-5)


def random_world(
    seed: int, popular_items: int, prefix_depth: int = 64, n_users: int = 60, n_items: int = 400
) -> ContentBased:
    """Zipf-like owners over random genres, styles, artists and decades (Poisson collections)."""
    rng = np.random.default_rng(seed)
    genres = [rng.choice(15, rng.integers(1, 4), replace=False).tolist() for _ in range(n_items)]
    styles = [rng.choice(12, rng.integers(0, 3), replace=False).tolist() for _ in range(n_items)]
    artists = [[int(a)] for a in rng.integers(0, n_items // 4, n_items)]
    decades = rng.choice([196, 197, 198, 199, -1], n_items).tolist()
    owned = {
        u: sorted(set(np.floor(n_items * rng.random(rng.poisson(6)) ** 3).astype(int).tolist()))
        for u in range(n_users)
    }
    ranker = ContentBased(
        popular_items=popular_items, candidate_users=16, prefix_depth=prefix_depth
    )
    ranker.fit(
        train_data(
            owned,
            (n_users, n_items),
            item_content=content(genres, artists=artists, styles=styles, decades=decades),
        )
    )
    return ranker


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("popular_items", [20, 2])
@pytest.mark.parametrize("prefix_depth", [1, 2, 64])
def test_candidate_lists_are_the_lists_of_every_item_s_score(seed, popular_items, prefix_depth):
    ranker = random_world(seed, popular_items, prefix_depth)
    users = np.arange(60)
    ids, scores = ranker.recommend(users, 20)
    expected_ids, expected_scores = ranker.every_item_top_n(users, ranker.rows(users, None), 20)
    assert ids.tolist() == expected_ids.tolist()
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5)


def test_a_shallow_prefix_proves_some_lists_and_leaves_others_to_a_deeper_one():
    ranker = random_world(0, 20)
    users = np.arange(60)
    rows = ranker.rows(users, None)
    _, values, bound = ranker.candidate_top_n(ranker.mixture(users, rows), rows, 10, 8)
    proven = values[:, -1] > bound
    assert proven.any() and not proven.all()
    assert ranker.largest_feature > 8, "the styles hold more items than the prefix"


def test_a_user_whose_candidates_cannot_prove_their_list_is_scored_on_every_item():
    ranker = random_world(0, 2)
    users = np.arange(60)
    rows = ranker.rows(users, None)
    _, values, bound = ranker.candidate_top_n(ranker.mixture(users, rows), rows, 20, 64)
    assert np.any(~(values[:, -1] > bound)), "two popular items leave some unproven"
    assert np.all(bound > 0)


def test_merge_lists_keeps_the_best_and_breaks_ties_to_the_lower_item():
    first = (np.array([[4, 2, -1]]), np.array([[0.9, 0.5, np.nan]], dtype=np.float32))
    second = (np.array([[1, 7, 3]]), np.array([[0.5, 0.4, 0.1]], dtype=np.float32))
    ids, values = merge_lists(first, second, 3)
    assert ids.tolist() == [[4, 1, 2]]
    np.testing.assert_allclose(values, [[0.9, 0.5, 0.5]])
    nothing = (np.array([[-1]]), np.array([[np.nan]]))
    short = merge_lists(nothing, (np.array([[5]]), np.array([[0.2]])), 2)
    assert short[0].tolist() == [[5, -1]]


def test_feature_sets_gives_each_row_its_distinct_set():
    rows = np.array([[0, 2.0, 3.0], [0, 0, 0], [1.0, 0, 0], [0, 0.5, 0.5], [4.0, 0, 0]])
    sets, of_row = feature_sets(sp.csr_matrix(rows))
    assert sets.tolist() == [[0, 0, 0], [1, 0, 0], [0, 1, 1]]
    assert of_row.tolist() == [2, 0, 1, 2, 1]


def test_feature_sets_refuses_more_features_than_a_code_holds():
    with pytest.raises(ValueError, match="63 features"):
        feature_sets(sp.csr_matrix((2, 63)))
