"""Shared genres of two tastes."""

from discorecs.app.api.users import shared_genres


def test_shared_genres_are_those_both_weigh_strongest_first() -> None:
    mine = [0.0] * 15
    theirs = [0.0] * 15
    mine[13], mine[8], mine[4] = 0.9, 0.4, 0.2
    theirs[13], theirs[8], theirs[11] = 0.3, 0.8, 0.5
    assert shared_genres(mine, theirs) == ["Jazz", "Rock"]
    assert shared_genres(mine, None) == []
