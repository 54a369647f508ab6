import pytest

from spark_jobs.scoring.rankers.tuning import sufficient_strength

STRENGTHS = (0.0, 0.1, 0.2, 0.3)


def test_the_weakest_strength_that_halves_the_miscalibration() -> None:
    ndcg = [0.20, 0.199, 0.198, 0.197]
    ckl = [0.60, 0.40, 0.29, 0.20]
    assert sufficient_strength(STRENGTHS, ndcg, ckl) == pytest.approx(0.2)


def test_no_strength_beyond_the_ndcg_tolerance() -> None:
    ndcg = [0.20, 0.199, 0.19, 0.197]
    ckl = [0.60, 0.40, 0.20, 0.10]
    assert sufficient_strength(STRENGTHS, ndcg, ckl) == pytest.approx(0.1)


def test_the_strongest_within_the_tolerance_when_none_halves_it() -> None:
    ndcg = [0.20, 0.199, 0.198, 0.197]
    ckl = [0.60, 0.55, 0.50, 0.45]
    assert sufficient_strength(STRENGTHS, ndcg, ckl) == pytest.approx(0.3)
