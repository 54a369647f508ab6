"""The hourly scoring run over arrays: full and incremental, cold start, fallback, steps."""

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from discorecs.core.genres import GENRE_INDEX
from discorecs.core.settings import ScoringSettings
from discorecs.core.timing import StepTimer
from spark_jobs.scoring.compute import (
    UserState,
    affected_users,
    recommend_for,
    score,
    user_tastes,
)
from spark_jobs.scoring.friends import Neighbours
from spark_jobs.scoring.recommend import Collections
from tests.unit.spark_jobs.scoring.worlds import collections, genre_matrix, release_features, world


def score_all(owned, genres, n_users, k, activity=None, step=None):
    c, features = world(owned, genres, n_users)
    return score(
        features,
        UserState.unscored(n_users),
        np.arange(0),
        lambda rows: c,
        tuning=ScoringSettings(neighbours=k),
        activity=activity,
        step=step,
    )


def test_cold_start_user_gets_popular_fallback_and_owned_never_recommended() -> None:
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


def test_activity_joins_the_taste_and_places_a_user_with_an_empty_collection() -> None:
    genres = [["Rock"], ["Rock"], ["Jazz"], ["Jazz"], ["Pop"]]
    owned = {0: [0, 1], 1: [0, 1, 2], 2: [2, 3], 3: [0, 2, 3]}
    asked = []

    def activity(rows):
        asked.append(rows.tolist())
        played = np.flatnonzero(np.isin(rows, [0, 1, 4]))  # Jazz release 2; user 1 owns it
        return sp.csr_matrix((np.ones(len(played)), (played, [2] * len(played))), (len(rows), 5))

    scores = score_all(owned, genres, n_users=5, k=2, activity=activity)
    assert asked == [[0, 1, 2, 3, 4]]
    # users 0 and 1: two Rock releases and one Jazz release (played; owned and played): counted
    # once, (2, 1) / sqrt(5)
    rock, jazz_at = GENRE_INDEX["Rock"], GENRE_INDEX["Jazz"]
    for user in (0, 1):
        np.testing.assert_allclose(
            scores.taste[user, [rock, jazz_at]], np.array([2, 1]) / np.sqrt(5), rtol=1e-6
        )
    assert scores.top_genre[4] == jazz_at and scores.taste[4, jazz_at] == 1.0
    # neighbours 2 (all Jazz) and 3: their items 2 and 3 (both), 0 (user 3), then popular 1
    assert scores.recommendations.releases[4, :4].tolist() == [2, 3, 0, 1]
    assert scores.counts["cold_start"] == 1


def test_fallback_fills_short_lists_from_top_genre() -> None:
    genres = [["Rock"], ["Rock"], ["Jazz"], ["Rock"]]
    c, features = world({0: [0], 1: [0, 1], 2: [2], 3: [3, 1]}, genres, n_users=4)
    users = np.array([0])
    nb = Neighbours(np.array([[1], [0], [-1], [-1]]), np.array([[1.0], [1.0], [0], [0]]))
    taste = np.zeros((4, 15), dtype=np.float32)
    taste[0] = features.genre_weights[0]
    top_genre = np.full(4, -1)
    top_genre[0] = GENRE_INDEX["Rock"]
    tuning = ScoringSettings(list_length=3)
    friend_release, ranked = recommend_for(c, features, taste, top_genre, nb, users, tuning)
    assert friend_release[0] == 1
    assert friend_release[[1, 2, 3]].tolist() == [-1, -1, -1]
    assert ranked.releases.tolist() == [[1, 3, 2]]
    assert ranked.scores[0, 1:].tolist() == [0.0, 0.0]


def test_friend_rule_without_lists_ranks_only_users_it_falls_back_for() -> None:
    genres = [["Rock"], ["Rock"], ["Jazz"], ["Rock"]]
    c, features = world({0: [0], 1: [0, 1], 2: [2], 3: [0, 1]}, genres, n_users=4)
    users = np.array([0, 3])
    nb = Neighbours(np.array([[1], [-1], [-1], [1]]), np.array([[1.0], [0], [0], [1.0]]))
    taste = np.tile(features.genre_weights[0], (4, 1)).astype(np.float32)
    top_genre = np.full(4, GENRE_INDEX["Rock"])
    tuning = ScoringSettings(list_length=3)
    every, ranked_all = recommend_for(c, features, taste, top_genre, nb, users, tuning)
    some, ranked = recommend_for(c, features, taste, top_genre, nb, users, tuning, lists=False)
    # user 0's friend (1) holds release 1; user 3 owns all of 1's: the top of 3's list instead
    np.testing.assert_array_equal(some, every)
    assert every[0] == 1 and every[3] == ranked_all.releases[1, 0]
    assert ranked.releases.tolist() == ranked_all.releases[[1]].tolist()


def test_scores_without_lists_list_no_one() -> None:
    rng = np.random.default_rng(5)
    genres = [[g] for g in rng.choice(["Rock", "Jazz"], 30).tolist()]
    owned = {u: sorted(set(rng.integers(0, 30, 4).tolist())) for u in range(40)}
    c, features = world(owned, genres, 40)
    state, changed = UserState.unscored(40), np.arange(0)
    listed = score(features, state, changed, lambda rows: c)
    unlisted = score(features, state, changed, lambda rows: c, lists=False)
    np.testing.assert_array_equal(unlisted.friend_release, listed.friend_release)
    assert len(unlisted.listed) == 0 and unlisted.recommendations.releases.shape == (0, 10)
    np.testing.assert_array_equal(listed.listed, listed.rescored)


def test_incremental_rescores_only_changed_and_affected() -> None:
    rng = np.random.default_rng(3)
    n_users, n_rel = 300, 60
    genres = [[g] for g in rng.choice(["Rock", "Jazz", "Pop", "Blues"], n_rel).tolist()]
    owned = {u: sorted(set(rng.integers(0, n_rel, 5).tolist())) for u in range(n_users)}
    first = score_all(owned, genres, n_users, k=3)
    changed = np.array([5, 77])
    owned[5], owned[77] = [0, 1], [2, 3, 4, 5, 6, 7]
    c2, features2 = world(owned, genres, n_users)
    loads = []

    def load(rows):
        loads.append(rows)
        return c2

    state = first.next_state(UserState.unscored(n_users))
    second = score(features2, state, changed, load, tuning=ScoringSettings(neighbours=3))
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


def test_empty_world_scores_nothing() -> None:
    c = Collections.from_pairs(np.zeros(0), np.zeros(0), 0, 0)
    scores = score(release_features([]), UserState.unscored(0), c.indptr[:0], lambda rows: c)
    assert len(scores.rescored) == 0
    assert scores.recall == 1.0


def test_every_step_is_timed() -> None:
    calls = []
    timer = StepTimer(lambda name, rows, seconds, error: calls.append((name, rows, error)))
    score_all({0: [0], 1: [0, 1], 2: [1]}, [["Rock"], ["Jazz"]], n_users=3, k=1, step=timer)
    assert list(timer.seconds) == [
        "read_collections",
        "taste",
        "ranks",
        "friends",
        "recall_check",
        "recommendations",
    ]
    assert calls[0] == ("read_collections", 3, None)


def test_user_tastes_of_some_rows() -> None:
    c = collections({0: [0, 1], 2: [1]}, 3, 2)
    weights = genre_matrix([["Rock"], ["Jazz"]])
    taste, sizes = user_tastes(c, weights, np.array([2, 1, 0]))
    assert sizes.tolist() == [1, 0, 2]
    assert taste[0, GENRE_INDEX["Jazz"]] == pytest.approx(1.0)
    assert not taste[1].any()
    assert taste[2, GENRE_INDEX["Rock"]] == pytest.approx(np.sqrt(0.5))


def test_affected_users_are_changed_their_followers_and_the_newly_closer() -> None:
    friend = np.array([1, 0, 3, 2, -1])
    similarity = np.array([0.9, 0.9, 0.5, 0.5, np.nan], dtype=np.float32)
    ids = np.full((5, 3), -1)
    sims = np.full((5, 3), np.nan, dtype=np.float32)
    ids[0], sims[0] = [2, 4, 3], [0.7, 0.3, 0.2]
    sizes = np.ones(5, dtype=np.int64)
    affected = affected_users(friend, similarity, np.array([0]), Neighbours(ids, sims), sizes, 0.0)
    assert affected.tolist() == [0, 1, 2, 4]


def test_a_user_is_affected_when_the_friend_rule_would_now_pick_the_changed_user() -> None:
    friend = np.array([-1, -1, 3, 2])  # user 2's friend: user 3, cosine 0.9 but one release
    similarity = np.array([np.nan, np.nan, 0.9, 0.9], dtype=np.float32)
    sizes = np.array([100, 5, 5, 1])
    ids = np.full((4, 1), -1)
    sims = np.full((4, 1), np.nan, dtype=np.float32)
    ids[0], sims[0] = [2], [0.85]  # changed user 0: cosine 0.85 to user 2, 100 releases
    near = Neighbours(ids, sims)
    # 0.85 * 100/101 = 0.84 beats 0.9 * 1/2 = 0.45: a full run would make user 0 the friend.
    assert affected_users(friend, similarity, np.array([0]), near, sizes, 1.0).tolist() == [0, 2]
    assert affected_users(friend, similarity, np.array([0]), near, sizes, 0.0).tolist() == [0]


def test_next_state_overwrites_only_the_rescored_rows() -> None:
    full = score_all({0: [0], 1: [0, 1], 2: [1]}, [["Rock"], ["Jazz"]], n_users=3, k=1)
    partial = replace(full, rescored=np.array([0]))
    previous = UserState.unscored(3)
    previous.friend[:] = [2, 2, 0]
    previous.friend_similarity[:] = [0.1, 0.2, 0.3]
    previous.scored[2] = True
    after = partial.next_state(previous)
    assert after.scored.tolist() == [True, False, True]
    assert after.friend.tolist() == [full.neighbours.friend[0], 2, 0]
    assert after.friend_similarity[1:].tolist() == pytest.approx([0.2, 0.3])
    assert after.taste is full.taste
