"""The readers' pure parts (their Spark reads are covered by tests/integration)."""

from spark_jobs.scoring.readers import DIRECT_JOIN_SHARE, few


def test_a_direct_join_reads_at_most_a_tenth_of_the_users() -> None:
    assert DIRECT_JOIN_SHARE == 0.1
    assert few(1_000, 100_000) and few(10_000, 100_000)
    assert not few(10_001, 100_000)
    assert few(0, 0) and not few(1, 0)
