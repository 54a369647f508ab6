"""What the summary job tells the driver: counts, dead letters and latency quantiles."""

from collections import Counter

from spark_jobs.stream.summary import BatchSummary, latency_quantiles


def test_latency_quantiles_from_a_histogram() -> None:
    histogram = [(1000, 1), (1009, 99)]
    p50, p99 = latency_quantiles(histogram, now=1010.0)
    assert p50 == 500.0
    assert p99 == 9500.0
    assert latency_quantiles([], now=1.0) is None


def test_latency_quantiles_ignore_histogram_order() -> None:
    histogram = [(1009, 50), (1000, 50)]
    assert latency_quantiles(histogram, now=1010.0) == (9500.0, 9500.0)
    assert latency_quantiles(list(reversed(histogram)), now=1010.0) == (9500.0, 9500.0)


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
