"""The fixed genre axes every vector in the project is laid out on."""

from discorecs.core.genres import GENRE_INDEX, GENRES


def test_fifteen_distinct_genres_and_their_index() -> None:
    assert len(GENRES) == len(set(GENRES)) == 15
    assert all(GENRES[GENRE_INDEX[g]] == g for g in GENRES)
