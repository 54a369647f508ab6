"""The recommendation rules over CSR collections: friend rule, neighbour ranking, fallback."""

import numpy as np
import pytest

from discorecs.core.genres import GENRE_INDEX, GENRES
from spark_jobs.scoring.recommend import (
    Collections,
    Styles,
    cells,
    expand_rows,
    fallback,
    find_sorted,
    group_starts,
    most_owned_unowned,
    most_popular_first,
    popular_by_genre,
    rank_candidates,
    style_profiles,
)
from tests.unit.spark_jobs.scoring.worlds import collections, release_features

ROCK, JAZZ = GENRE_INDEX["Rock"], GENRE_INDEX["Jazz"]


def test_collections_from_pairs_drop_duplicates_and_sort() -> None:
    c = Collections.from_pairs(np.array([2, 0, 2, 2]), np.array([1, 3, 0, 1]), 3, 4)
    assert c.indptr.tolist() == [0, 1, 1, 3]
    assert c.indices.tolist() == [3, 0, 1]
    assert c.sizes().tolist() == [1, 0, 2]
    assert c.popularity().tolist() == [1, 1, 0, 1]
    assert c.owns(np.array([0, 0, 2, 1]), np.array([3, 1, 0, 0])).tolist() == [
        True,
        False,
        True,
        False,
    ]


def test_find_sorted_and_expand_rows() -> None:
    at, found = find_sorted(np.array([2, 5, 9]), np.array([5, 1, 9, 10]))
    assert found.tolist() == [True, False, True, False]
    assert at[found].tolist() == [1, 2]
    assert find_sorted(np.array([], dtype=np.int64), np.array([1]))[1].tolist() == [False]
    owner, positions = expand_rows(np.array([0, 2, 2, 5]), np.array([2, 0]))
    assert owner.tolist() == [0, 0, 0, 1, 1]
    assert positions.tolist() == [2, 3, 4, 0, 1]


def test_friend_rule_picks_most_owned_unowned_with_release_id_tie_break() -> None:
    c = collections({0: [0], 1: [0, 1, 2, 3], 2: [1], 3: [2], 4: [3], 5: [3]}, 6, 4)
    popularity = c.popularity()
    assert popularity.tolist() == [2, 2, 2, 3]
    friend = np.array([1, -1, -1, -1, 1, -1])
    picked = most_owned_unowned(c, friend, popularity)
    assert picked[0] == 3
    assert picked[4] == 0
    assert picked[1] == -1


def test_friend_rule_none_when_friend_has_nothing_new() -> None:
    c = collections({0: [0, 1], 1: [1]}, 2, 2)
    assert most_owned_unowned(c, np.array([1, 0]), c.popularity()).tolist() == [-1, 0]
    assert most_owned_unowned(c, np.array([0, 1]), c.popularity()).tolist() == [-1, -1]


def test_friend_rule_matches_each_users_own_pick_on_a_random_world() -> None:
    rng = np.random.default_rng(7)
    owned = {user: rng.choice(30, rng.integers(0, 8), replace=False).tolist() for user in range(40)}
    c = collections(owned, 40, 30)
    popularity = rng.integers(0, 4, 30)
    friend = rng.integers(-1, 40, 40)
    expected = [
        min((-int(popularity[r]), r) for r in set(owned[int(f)]) - set(owned[user]))[1]
        if f >= 0 and set(owned[int(f)]) - set(owned[user])
        else -1
        for user, f in enumerate(friend)
    ]
    assert most_owned_unowned(c, friend, popularity).tolist() == expected


def test_rank_candidates_weights_by_similarity_and_never_owned() -> None:
    c = collections({0: [0], 1: [0, 1, 2], 2: [2, 3]}, 3, 4)
    ids = np.array([[1, 2]])
    sims = np.array([[0.9, 0.5]], dtype=np.float32)
    taste = np.zeros((3, 15), dtype=np.float32)
    features = release_features([[]] * 4)
    ranked = rank_candidates(c, np.array([0]), ids, sims, taste, features, n=4)
    assert ranked.releases[0].tolist() == [2, 1, 3, -1]
    np.testing.assert_allclose(ranked.scores[0, :3], [1.4, 0.9, 0.5], rtol=1e-6)
    assert np.isnan(ranked.scores[0, 3])


def test_rank_candidates_counts_a_repeated_neighbour_twice_and_the_user_never() -> None:
    c = collections({0: [0, 1], 1: [1, 2], 2: [3]}, 3, 4)
    ids = np.array([[0, 2, 1, 2]])
    sims = np.array([[1.0, 0.25, 0.5, 0.125]], dtype=np.float32)
    taste = np.zeros((3, 15), dtype=np.float32)
    ranked = rank_candidates(c, np.array([0]), ids, sims, taste, release_features([[]] * 4), n=3)
    assert ranked.releases[0].tolist() == [2, 3, -1]
    assert ranked.scores[0, :2].tolist() == [0.5, 0.375]


def test_the_compiled_rules_refuse_arrays_of_another_shape() -> None:
    c = collections({0: [0], 1: [0, 1]}, 2, 2)
    with pytest.raises(ValueError, match="features has 3 entries for 2 release rows"):
        rank_candidates(
            c,
            np.array([0]),
            np.array([[1]]),
            np.ones((1, 1), np.float32),
            np.zeros((2, 15), np.float32),
            release_features([[]] * 3),
            n=1,
        )
    with pytest.raises(ValueError, match="friend has 3 entries for 2 user rows"):
        most_owned_unowned(c, np.array([1, 0, 0]), c.popularity())


def test_rank_candidates_keeps_the_top_n() -> None:
    c = collections({0: [0], 1: [0, 1, 2], 2: [2, 3]}, 3, 4)
    ids, sims = np.array([[1, 2]]), np.array([[0.9, 0.5]], dtype=np.float32)
    taste = np.zeros((3, 15), dtype=np.float32)
    ranked = rank_candidates(c, np.array([0]), ids, sims, taste, release_features([[]] * 4), n=2)
    assert ranked.releases.tolist() == [[2, 1]]


def test_rank_candidates_tie_broken_by_genre_match_then_trending() -> None:
    c = collections({0: [0], 1: [1, 2, 3]}, 2, 4)
    features = release_features([["Rock"], ["Jazz"], ["Rock"], ["Jazz"]], trending=[0, 0, 0, 5])
    taste = np.zeros((2, 15), dtype=np.float32)
    taste[0] = features.genre_weights[0]
    ranked = rank_candidates(
        c, np.array([0]), np.array([[1]]), np.array([[0.7]], np.float32), taste, features, n=3
    )
    assert ranked.releases[0].tolist() == [2, 3, 1]


def test_rank_candidates_style_match_breaks_genre_ties_before_trending() -> None:
    c = collections({0: [0], 1: [1, 2, 3]}, 2, 4)
    styles = [["Punk"], ["Prog Rock"], ["Punk", "Prog Rock"], ["Punk"]]
    features = release_features([["Rock"]] * 4, trending=[0, 9, 0, 0], styles=styles)
    taste = np.zeros((2, 15), dtype=np.float32)
    taste[0] = features.genre_weights[0]
    ranked = rank_candidates(
        c, np.array([0]), np.array([[1]]), np.array([[0.7]], np.float32), taste, features, n=3
    )
    assert ranked.releases[0].tolist() == [3, 2, 1]


def test_style_lists_are_numbered_in_sorted_order() -> None:
    styles = Styles.from_lists([["Punk", "Dub"], None, ["Dub"]], [[0.5, 0.5], None, [1.0]])
    assert styles.n_styles == 2
    assert styles.indptr.tolist() == [0, 2, 2, 3]
    assert styles.ids.tolist() == [1, 0, 0]
    assert styles.weights.tolist() == [0.5, 0.5, 1.0]


def test_style_profiles_are_unit_sums_of_owned_styles() -> None:
    c = collections({0: [0, 2], 2: [1]}, 3, 3)
    styles = Styles.from_lists([["Dub"], None, ["Dub", "Punk"]], [[1.0], None, [0.5, 0.5]])
    profiles = style_profiles(c, styles, np.array([0, 1, 2]))
    expected = np.array([1.5, 0.5]) / np.linalg.norm([1.5, 0.5])
    np.testing.assert_allclose(profiles[0], expected, rtol=1e-6)
    assert not profiles[1].any() and not profiles[2].any()


def test_popular_by_genre_orders_by_popularity_then_release_row() -> None:
    features = release_features([["Rock"], ["Jazz"], ["Rock", "Jazz"], ["Rock"]])
    popularity = np.array([5, 9, 5, 1])
    overall, per_genre = popular_by_genre(popularity, features.genre_weights, depth=3)
    assert overall.tolist() == [1, 0, 2]
    assert per_genre[ROCK].tolist() == [0, 2, 3]
    assert per_genre[JAZZ].tolist() == [1, 2]
    assert len(per_genre[GENRE_INDEX["Blues"]]) == 0
    assert popular_by_genre(popularity, features.genre_weights, depth=1)[0].tolist() == [1]


def test_fallback_takes_the_top_genre_then_overall_never_owned_or_listed() -> None:
    features = release_features([["Rock"], ["Jazz"], ["Rock", "Jazz"], ["Rock"], ["Pop"]])
    lists = popular_by_genre(np.array([5, 9, 5, 1, 7]), features.genre_weights, depth=10)
    c = collections({0: [2]}, 1, 5)
    assert fallback(c, 0, ROCK, lists, np.array([0]), n=3).tolist() == [3, 1, 4]
    assert fallback(c, 0, None, lists, np.array([], dtype=np.int64), n=2).tolist() == [1, 4]


@pytest.mark.parametrize("chunk", [1, 2, 20_000])
def test_rank_candidates_is_the_same_whatever_the_chunk(chunk: int) -> None:
    c = collections({0: [0], 1: [0, 1, 2], 2: [2, 3], 3: [1]}, 4, 4)
    users = np.array([0, 2, 3])
    ids = np.array([[1, 2], [1, -1], [2, 1]])
    sims = np.array([[0.9, 0.5], [0.8, np.nan], [0.7, 0.6]], dtype=np.float32)
    taste = np.zeros((4, 15), dtype=np.float32)
    ranked = rank_candidates(
        c, users, ids, sims, taste, release_features([[]] * 4), n=3, chunk=chunk
    )
    assert ranked.releases.tolist() == [[2, 1, 3], [0, 1, -1], [2, 3, 0]]


def test_cells_are_the_fancy_index_of_a_table():
    table = np.arange(12, dtype=np.float32).reshape(3, 4)
    rows = np.array([2, 0, 1, 2], dtype=np.int64)
    columns = np.array([3, 1, 0, 3], dtype=np.int32)
    assert cells(table, rows, columns).tolist() == [11.0, 1.0, 4.0, 11.0]
    assert cells(table[:, 1:], rows, columns[[0, 1, 1, 3]] - 1).tolist() == [11.0, 1.0, 5.0, 11.0]


@pytest.mark.parametrize("n", [1, 3, 6])
def test_rank_candidates_top_n_is_the_head_of_the_whole_ranking(n: int) -> None:
    rng = np.random.default_rng(3)
    owned = {u: rng.choice(40, rng.integers(0, 12), replace=False).tolist() for u in range(30)}
    c = collections(owned, 30, 40)
    picks = [rng.choice(4, rng.integers(1, 3), replace=False) for _ in range(40)]
    features = release_features(
        [[GENRES[g] for g in pick] for pick in picks],
        trending=rng.integers(0, 3, 40).tolist(),
        styles=[[f"style {g}" for g in pick] for pick in picks],
    )
    taste = rng.random((30, 15)).astype(np.float32)
    users = np.arange(0, 30, 2)
    ids = rng.integers(-1, 30, (len(users), 4))
    sims = rng.choice([0.5, 0.7], (len(users), 4)).astype(np.float32)  # ties on score abound
    whole = rank_candidates(c, users, ids, sims, taste, features, n=200)
    head = rank_candidates(c, users, ids, sims, taste, features, n=n)
    assert head.releases.tolist() == whole.releases[:, :n].tolist()
    np.testing.assert_array_equal(head.scores, whole.scores[:, :n])


def test_group_starts_are_where_each_run_of_equal_values_begins() -> None:
    assert group_starts(np.array([4, 4, 7, 9, 9, 9])).tolist() == [0, 2, 3]
    assert group_starts(np.array([5])).tolist() == [0]
    assert group_starts(np.zeros(0, dtype=np.int64)).tolist() == []


def test_most_popular_first_ranks_ties_to_the_lower_row_at_any_depth() -> None:
    popularity = np.array([3, 7, 3, 0, 7, 3])
    assert most_popular_first(popularity).tolist() == [1, 4, 0, 2, 5, 3]
    assert most_popular_first(popularity, 3).tolist() == [1, 4, 0]
    assert most_popular_first(popularity, 1).tolist() == [1]
    assert most_popular_first(popularity, 0).tolist() == []
    assert most_popular_first(popularity, 9).tolist() == [1, 4, 0, 2, 5, 3]
    rng = np.random.default_rng(0)
    many = rng.integers(0, 5, 1000)
    assert np.array_equal(most_popular_first(many, 37), most_popular_first(many)[:37])
