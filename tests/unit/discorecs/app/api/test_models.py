"""Row converters: tastes keyed by genre, UTC timestamps, release summaries."""

from datetime import UTC, datetime
from types import SimpleNamespace

from discorecs.app.api.models import release_summary, taste_map, user_summary, utc
from discorecs.core.genres import GENRES


def test_taste_map_follows_the_genre_order() -> None:
    vector = [0.0] * 15
    vector[13] = 1.0
    mapped = taste_map(vector)
    assert mapped is not None and list(mapped) == list(GENRES)
    assert mapped["Rock"] == 1.0
    assert taste_map(None) is None


def test_naive_cassandra_timestamps_are_utc() -> None:
    naive = datetime(2026, 1, 2, 3, 4, 5)
    assert utc(naive) == naive.replace(tzinfo=UTC)
    assert utc(None) is None
    aware = datetime(2026, 1, 2, tzinfo=UTC)
    assert utc(aware) is aware


def test_release_summary_sorts_sets_and_tolerates_nulls() -> None:
    row = SimpleNamespace(
        release_id=3,
        title="Pink Flag",
        artists=["Wire"],
        artist_credit="Wire",
        labels=None,
        formats=None,
        genres={"Rock", "Electronic"},
        styles=None,
        country="UK",
        year=1977,
    )
    summary = release_summary(row)
    assert summary.genres == ["Electronic", "Rock"]
    assert summary.styles == [] and summary.labels == [] and summary.formats == []
    assert user_summary(9, None).model_dump() == {"user_id": 9, "name": None, "username": None}
