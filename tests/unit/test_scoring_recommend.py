import numpy as np

from discorecs.genres import GENRE_INDEX
from spark_jobs.scoring.compute import UserState, recommend_for, score
from spark_jobs.scoring.friends import Neighbours
from spark_jobs.scoring.recommend import (
    Catalogue,
    Collections,
    Styles,
    most_owned_unowned,
    rank_candidates,
)
from spark_jobs.scoring.weights import genre_weight_matrix, style_weights


def collections(owned: dict[int, list[int]], n_users: int, n_releases: int) -> Collections:
    pairs = [(u, r) for u, rs in owned.items() for r in rs]
    users, releases = (np.array(x, dtype=np.int64) for x in zip(*pairs, strict=True))
    return Collections.from_pairs(users, releases, n_users, n_releases)


def catalogue_of(
    weights: np.ndarray, trending=None, owners=None, styles: list[list[str]] | None = None
) -> Catalogue:
    n = len(weights)
    zeros = np.zeros(n, dtype=np.int64)
    if styles is None:
        style_columns = Styles.none(n)
    else:
        maps = [style_weights(s) for s in styles]
        style_columns = Styles.from_lists([list(m) for m in maps], [list(m.values()) for m in maps])
    return Catalogue(
        weights,
        style_columns,
        zeros if owners is None else np.asarray(owners),
        zeros if trending is None else np.asarray(trending),
    )


def test_friend_rule_picks_most_owned_unowned_with_release_id_tie_break():
    c = collections({0: [0], 1: [0, 1, 2, 3], 2: [1], 3: [2], 4: [3], 5: [3]}, 6, 4)
    popularity = c.popularity()
    assert popularity.tolist() == [2, 2, 2, 3]
    friend = np.array([1, -1, -1, -1, 1, -1])
    picked = most_owned_unowned(c, friend, popularity)
    assert picked[0] == 3
    assert picked[4] == 0
    assert picked[1] == -1


def test_friend_rule_none_when_friend_has_nothing_new():
    c = collections({0: [0, 1], 1: [1]}, 2, 2)
    assert most_owned_unowned(c, np.array([1, 0]), c.popularity()).tolist() == [-1, 0]


def test_rank_candidates_weights_by_similarity_and_never_owned():
    c = collections({0: [0], 1: [0, 1, 2], 2: [2, 3]}, 3, 4)
    ids = np.array([[1, 2]])
    sims = np.array([[0.9, 0.5]], dtype=np.float32)
    taste = np.zeros((3, 15), dtype=np.float32)
    weights = np.zeros((4, 15), dtype=np.float32)
    ranked = rank_candidates(c, np.array([0]), ids, sims, taste, catalogue_of(weights), n=4)
    assert ranked.releases[0].tolist() == [2, 1, 3, -1]
    np.testing.assert_allclose(ranked.scores[0, :3], [1.4, 0.9, 0.5], rtol=1e-6)


def test_rank_candidates_tie_broken_by_genre_match_then_trending():
    c = collections({0: [0], 1: [1, 2, 3]}, 2, 4)
    weights = genre_weight_matrix([["Rock"], ["Jazz"], ["Rock"], ["Jazz"]])
    taste = np.zeros((2, 15), dtype=np.float32)
    taste[0] = weights[0]
    trending = np.array([0, 0, 0, 5])
    catalogue = catalogue_of(weights, trending=trending)
    ranked = rank_candidates(
        c, np.array([0]), np.array([[1]]), np.array([[0.7]], np.float32), taste, catalogue
    )
    assert ranked.releases[0, :3].tolist() == [2, 3, 1]


def test_rank_candidates_style_match_breaks_genre_ties_before_trending():
    c = collections({0: [0], 1: [1, 2, 3]}, 2, 4)
    weights = genre_weight_matrix([["Rock"]] * 4)
    styles = [["Punk"], ["Prog Rock"], ["Punk", "Prog Rock"], ["Punk"]]
    taste = np.zeros((2, 15), dtype=np.float32)
    taste[0] = weights[0]
    catalogue = catalogue_of(weights, trending=[0, 9, 0, 0], styles=styles)
    ranked = rank_candidates(
        c, np.array([0]), np.array([[1]]), np.array([[0.7]], np.float32), taste, catalogue
    )
    assert ranked.releases[0, :3].tolist() == [3, 2, 1]


def test_style_lists_are_numbered_in_sorted_order():
    styles = Styles.from_lists([["Punk", "Dub"], None, ["Dub"]], [[0.5, 0.5], None, [1.0]])
    assert styles.n_styles == 2
    assert styles.indptr.tolist() == [0, 2, 2, 3]
    assert styles.ids.tolist() == [1, 0, 0]


def world_of(
    owned: dict[int, list[int]], genres: list[list[str]], n_users: int
) -> tuple[Collections, Catalogue]:
    c = collections(owned, n_users, len(genres))
    return c, catalogue_of(genre_weight_matrix(genres), owners=c.popularity())


def score_all(owned, genres, n_users, k, activity=None):
    c, catalogue = world_of(owned, genres, n_users)
    return score(
        catalogue, UserState.unscored(n_users), np.arange(0), lambda rows: c, k=k, activity=activity
    )


def test_cold_start_user_gets_popular_fallback_and_owned_never_recommended():
    genres = [["Rock"], ["Rock"], ["Jazz"], ["Jazz"], ["Pop"]]
    owned = {0: [0, 1], 1: [0, 1, 2], 2: [2, 3], 3: [0, 2, 3]}
    scores = score_all(owned, genres, n_users=5, k=2)
    recs = scores.recommendations.releases
    assert scores.neighbours.friend[4] == -1
    assert recs[4, :4].tolist() == [0, 2, 1, 3]
    assert (scores.recommendations.scores[4, :3] == 0).all()
    assert scores.friend_release[4] == 0
    for user, have in owned.items():
        assert not set(recs[user][recs[user] >= 0].tolist()) & set(have)
        assert scores.friend_release[user] not in have
        assert scores.neighbours.friend[user] != user


def test_cold_start_user_gets_the_popular_releases_of_their_activity_genre():
    genres = [["Rock"], ["Rock"], ["Jazz"], ["Jazz"], ["Pop"]]
    owned = {0: [0, 1], 1: [0, 1, 2], 2: [2, 3], 3: [0, 2, 3]}
    jazz = genre_weight_matrix([["Jazz"]])[0]
    asked = []

    def activity(rows):
        asked.append(rows.tolist())
        return np.tile(jazz, (len(rows), 1))

    scores = score_all(owned, genres, n_users=5, k=2, activity=activity)
    assert asked == [[4]]
    assert scores.top_genre[4] == GENRE_INDEX["Jazz"]
    assert scores.recommendations.releases[4, :4].tolist() == [2, 3, 0, 1]
    assert scores.counts["cold_start"] == 1


def test_fallback_fills_short_lists_from_top_genre():
    genres = [["Rock"], ["Rock"], ["Jazz"], ["Rock"]]
    c, catalogue = world_of({0: [0], 1: [0, 1], 2: [2], 3: [3, 1]}, genres, n_users=4)
    users = np.array([0])
    nb = Neighbours(np.array([[1], [0], [-1], [-1]]), np.array([[1.0], [1.0], [0], [0]]))
    taste = np.zeros((4, 15), dtype=np.float32)
    taste[0] = catalogue.genre_weights[0]
    top_genre = np.full(4, -1)
    top_genre[0] = GENRE_INDEX["Rock"]
    friend_release, ranked = recommend_for(c, catalogue, taste, top_genre, nb, users, n=3)
    assert friend_release[0] == 1
    assert ranked.releases[0].tolist() == [1, 3, 2]


def test_incremental_rescores_only_changed_and_affected():
    rng = np.random.default_rng(3)
    n_users, n_rel = 300, 60
    genres = [[g] for g in rng.choice(["Rock", "Jazz", "Pop", "Blues"], n_rel).tolist()]
    owned = {u: sorted(set(rng.integers(0, n_rel, 5).tolist())) for u in range(n_users)}
    first = score_all(owned, genres, n_users, k=3)
    changed = np.array([5, 77])
    owned[5], owned[77] = [0, 1], [2, 3, 4, 5, 6, 7]
    c2, catalogue2 = world_of(owned, genres, n_users)
    loads = []

    def load(rows):
        loads.append(rows)
        return c2

    state = first.next_state(UserState.unscored(n_users))
    second = score(catalogue2, state, changed, load, k=3)
    assert second.counts["taste_recomputed"] == 2
    assert loads[0].tolist() == changed.tolist()
    assert set(changed) <= set(second.rescored.tolist())
    assert second.counts["rescored"] < n_users
    unchanged = np.setdiff1d(np.arange(n_users), changed)
    np.testing.assert_array_equal(second.taste[unchanged], first.taste[unchanged])
    full = score_all(owned, genres, n_users, k=3)
    np.testing.assert_allclose(second.taste, full.taste, atol=1e-6)
    after = second.next_state(state)
    assert (after.friend != np.arange(n_users)).all()
    assert len(second.recommendations.releases) == len(second.rescored)


def test_empty_world_scores_nothing():
    c = Collections.from_pairs(np.zeros(0), np.zeros(0), 0, 0)
    scores = score(
        catalogue_of(np.zeros((0, 15), np.float32)),
        UserState.unscored(0),
        c.indptr[:0],
        lambda rows: c,
    )
    assert len(scores.rescored) == 0
    assert scores.recall == 1.0
