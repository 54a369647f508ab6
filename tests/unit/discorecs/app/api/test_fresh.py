"""The live neighbour rule: taste, candidate ranking and trending padding, on small known worlds."""

import inspect

import numpy as np
import pytest

from discorecs.app.api.fresh import (
    NEIGHBOURS,
    TRENDING,
    TRENDING_GENRE,
    LiveUser,
    Neighbour,
    fresh_recommendations,
    live_profile,
    pad_with_trending,
    rank_neighbour_candidates,
)
from discorecs.app.api.reads import Features, rank_trending
from discorecs.core.genres import GENRE_INDEX, GENRES


def weights(*genres: str) -> np.ndarray:
    vector = np.zeros(len(GENRES), dtype=np.float32)
    for genre in genres:
        vector[GENRE_INDEX[genre]] = 1.0 / len(genres)
    return vector


def feature(
    *genres: str, styles: dict[str, float] | None = None, credits: tuple[str, ...] = ()
) -> Features:
    return Features(weights(*genres), styles or {}, frozenset(credits))


def user(owned: tuple[int, ...], *genres: str, styles: dict[str, float] | None = None) -> LiveUser:
    taste, _ = live_profile([feature(*genres)]) if genres else (np.zeros(15), {})
    return LiveUser(7, owned, taste, styles or {}, genres[0] if genres else None)


def test_live_profile_is_the_unit_sum_of_genre_and_style_weights() -> None:
    taste, styles = live_profile(
        [feature("Rock", styles={"Punk": 1.0}), feature("Rock", "Jazz", styles={"Punk": 0.5})]
    )
    expected = weights("Rock") + weights("Rock", "Jazz")
    np.testing.assert_allclose(taste, expected / np.linalg.norm(expected), rtol=1e-6)
    assert styles == {"Punk": pytest.approx(1.0)}
    empty, no_styles = live_profile([])
    assert not empty.any() and no_styles == {}


def test_recent_activity_joins_the_taste_but_not_the_styles() -> None:
    taste, styles = live_profile(
        [feature("Rock", styles={"Punk": 1.0})], [feature("Jazz", styles={"Modal": 1.0})]
    )
    expected = weights("Rock") + weights("Jazz")
    np.testing.assert_allclose(taste, expected / np.linalg.norm(expected), rtol=1e-6)
    assert styles == {"Punk": pytest.approx(1.0)}
    only_played, _ = live_profile([], [feature("Jazz")])
    np.testing.assert_allclose(only_played, weights("Jazz"), rtol=1e-6)


def test_releases_sharing_a_credit_are_discounted_as_in_the_hourly_job() -> None:
    label = ("label:Blue Note",)
    taste, _ = live_profile(
        [feature("Jazz", credits=label), feature("Jazz", credits=label), feature("Rock")],
        [feature("Jazz", credits=(*label, "artist:Miles"))],
    )
    expected = 3 * 3**-0.5 * weights("Jazz") + weights("Rock")
    np.testing.assert_allclose(taste, expected / np.linalg.norm(expected), rtol=1e-6)


def test_candidates_are_scored_by_summed_similarity_and_never_owned() -> None:
    me = user((1, 2), "Rock")
    neighbours = [Neighbour(20, 0.9, (1, 3, 4)), Neighbour(21, 0.5, (2, 3, 5))]
    features = {r: feature("Rock") for r in (3, 4, 5)}
    ranked = rank_neighbour_candidates(me, neighbours, features, {})
    assert [r.release_id for r in ranked] == [3, 4, 5]
    assert ranked[0].score == pytest.approx(1.4)
    assert ranked[0].source == NEIGHBOURS
    assert ranked[0].reason == "owned by 2 of your 2 look-alike collectors"
    assert not {r.release_id for r in ranked} & set(me.owned)


def test_ties_go_to_genre_match_then_style_then_trending_then_the_lower_id() -> None:
    me = user((), "Rock", styles={"Punk": 1.0})
    neighbours = [Neighbour(20, 0.5, (10, 11, 12, 13, 14, 15))]
    features = {
        10: feature("Jazz"),
        11: feature("Rock", styles={"Punk": 1.0}),
        12: feature("Rock"),
        13: feature("Rock"),
        14: feature("Rock"),
        15: feature("Rock"),
    }
    trending = {13: 5, 14: 9}
    ranked = rank_neighbour_candidates(me, neighbours, features, trending)
    assert [r.release_id for r in ranked] == [11, 14, 13, 12, 15, 10]


def test_padding_takes_the_top_genre_then_overall_trending_skipping_owned_and_listed() -> None:
    trending = rank_trending(
        {1: 50, 2: 40, 3: 30, 4: 20, 5: 10},
        {1: feature("Jazz"), 2: feature("Rock"), 3: feature("Rock"), 4: feature("Jazz")},
    )
    me = user((3,), "Rock")
    listed = rank_neighbour_candidates(me, [Neighbour(9, 1.0, (2,))], {2: feature("Rock")}, {})
    padded = pad_with_trending(listed, me, trending, 4)
    assert [(r.release_id, r.source) for r in padded] == [
        (2, NEIGHBOURS),
        (1, TRENDING),
        (4, TRENDING),
        (5, TRENDING),
    ]
    jazz_fan = user((), "Jazz")
    assert [(r.release_id, r.source) for r in pad_with_trending([], jazz_fan, trending, 3)] == [
        (1, TRENDING_GENRE),
        (4, TRENDING_GENRE),
        (2, TRENDING),
    ]
    assert padded[1].score == 0.0


def test_a_short_world_gives_a_short_list() -> None:
    trending = rank_trending({1: 3}, {1: feature("Rock")})
    assert [r.release_id for r in pad_with_trending([], user((1,), "Rock"), trending, 10)] == []


def test_the_swappable_signature() -> None:
    parameters = list(inspect.signature(fresh_recommendations).parameters)
    assert parameters[:4] == ["session", "settings", "user_id", "n"]
