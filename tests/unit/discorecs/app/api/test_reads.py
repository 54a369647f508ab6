"""The trending window's hours, its incremental sums, and the order, overall and per genre."""

from datetime import datetime

import numpy as np

from discorecs.app.api.reads import Features, HourCounts, latest_adds_first, rank_trending
from discorecs.core.genres import GENRE_INDEX, GENRES


def test_trending_is_ordered_by_events_then_id_and_split_by_genre() -> None:
    def of(*genres: str) -> Features:
        vector = np.zeros(len(GENRES), dtype=np.float32)
        vector[[GENRE_INDEX[g] for g in genres]] = 1 / len(genres)
        return Features(vector, {})

    trending = rank_trending(
        {5: 10, 3: 10, 9: 40, 7: 1},
        {5: of("Rock"), 3: of("Jazz", "Rock"), 9: of("Jazz")},
    )
    assert trending.ranked == (9, 3, 5, 7)
    assert trending.by_genre["Rock"] == (3, 5)
    assert trending.by_genre["Jazz"] == (9, 3)
    assert trending.by_genre["Blues"] == ()
    assert set(trending.by_genre) == set(GENRES)


def totals(counts: HourCounts) -> dict[int, int]:
    found: dict[int, int] = {}
    counts.add_to(found)
    return found


def test_an_hour_sums_its_batches_and_rereads_only_from_the_newest() -> None:
    counts = HourCounts()
    assert counts.newest == 0
    counts.update([(0, 7, 2), (0, 8, 1), (1, 7, 3)])
    assert totals(counts) == {7: 5, 8: 1}
    assert counts.newest == 1
    # batch 1 was partly written at the first read: read again from it, with batch 2 beside it
    counts.update([(1, 7, 3), (1, 9, 4), (2, 8, 6)])
    assert totals(counts) == {7: 5, 8: 7, 9: 4}
    assert counts.newest == 2


def test_a_read_with_no_rows_changes_nothing_and_a_replayed_batch_counts_once() -> None:
    counts = HourCounts()
    counts.update([(4, 1, 2)])
    counts.update([])
    counts.update([(4, 1, 2)])
    assert totals(counts) == {1: 2}
    assert counts.newest == 4


def test_latest_adds_come_first_then_lower_ids_and_no_time_last() -> None:
    early, late = datetime(2026, 1, 1), datetime(2026, 2, 1)
    entries = [(5, early), (9, None), (7, late), (3, early), (1, late)]
    assert latest_adds_first(entries) == [(1, late), (7, late), (3, early), (5, early), (9, None)]
