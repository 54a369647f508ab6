"""What the summary job tells the driver: counts, dead letters and latency quantiles."""

from collections import Counter

from spark_jobs.stream.summary import BatchSummary, latencies, latency_quantiles


def test_latencies_time_each_second_at_its_middle() -> None:
    assert latencies([(1000, 1), (1009, 99)], now=1010.0) == [(9500.0, 1), (500.0, 99)]
    assert latencies([], now=1.0) == []


def test_latency_quantiles_count_events_not_seconds() -> None:
    quantiles = latency_quantiles([(9500.0, 1), (500.0, 99)])
    assert quantiles is not None
    p50, p99 = quantiles
    assert p50 == 500.0
    assert p99 == 9500.0
    assert latency_quantiles([]) is None


def test_latency_quantiles_ignore_order() -> None:
    pairs = [(500.0, 50), (9500.0, 50)]
    assert latency_quantiles(pairs) == (9500.0, 9500.0)
    assert latency_quantiles(reversed(pairs)) == (9500.0, 9500.0)


def test_latency_quantiles_over_batches_weigh_each_event_once() -> None:
    # 99 batches of 100 events at 1 s and one slow batch of 5 events at 9 s: p99 over the
    # events is 1 s (5 of 9 905 events are slower); the slowest batches' own p99 would be 9 s.
    pairs = [(1000.0, 100)] * 99 + [(9000.0, 5)]
    assert latency_quantiles(pairs) == (1000.0, 1000.0)
    assert latency_quantiles([*pairs, (9000.0, 100)]) == (1000.0, 9000.0)


def test_counts_and_dead_letters() -> None:
    summary = BatchSummary(
        counts=Counter(
            {
                ("collections", False): 10,
                ("collections", True): 2,
                ("activity", False): 5,
                ("users", False): 3,
                ("activity", True): 1,
            }
        ),
        release_events=Counter({42: 4, 43: 6, 44: 5}),
    )
    assert summary.rows == 21
    assert summary.valid("collections") == 10
    assert summary.valid("users") == 3
    assert summary.dead_letters(set()) == 3
    assert summary.dead_letters({42, 44}) == 3 + 4 + 5
    assert BatchSummary().rows == 0 and BatchSummary().dead_letters({1}) == 0
