"""numpy's huge-page advice, switched per process."""

from spark_jobs.scoring.huge_pages import use_huge_pages


def test_the_switch_reports_the_state_it_replaces() -> None:
    before = use_huge_pages(False)
    try:
        assert use_huge_pages(True) is False
        assert use_huge_pages(False) is True
    finally:
        use_huge_pages(before)
