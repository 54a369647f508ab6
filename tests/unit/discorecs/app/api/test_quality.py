"""Quality rows grouped per run, ordered by the time in their timeuuid."""

import uuid
from datetime import UTC
from types import SimpleNamespace

from discorecs.app.api.quality import group_quality, run_time


def test_runs_are_grouped_and_ordered_oldest_first() -> None:
    first, second = uuid.uuid1(), uuid.uuid1()
    rows = [
        SimpleNamespace(run_id=second, metric="hit_rate", value=0.2),
        SimpleNamespace(run_id=second, metric="coverage", value=0.5),
        SimpleNamespace(run_id=first, metric="hit_rate", value=0.1),
        SimpleNamespace(run_id=first, metric="skipped", value=None),
    ]
    runs = group_quality(rows)
    assert [r.run_id for r in runs] == [str(first), str(second)]
    assert runs[0].metrics == {"hit_rate": 0.1}
    assert runs[1].metrics == {"hit_rate": 0.2, "coverage": 0.5}
    assert runs[0].at is not None and runs[0].at.tzinfo is UTC
    assert runs[1].at is not None and runs[0].at <= runs[1].at


def test_only_time_based_ids_have_a_time_and_old_runs_are_dropped() -> None:
    assert run_time(uuid.uuid4()) is None
    assert run_time("run-7") is None
    rows = [SimpleNamespace(run_id=uuid.uuid1(), metric="m", value=float(i)) for i in range(5)]
    assert [r.metrics["m"] for r in group_quality(rows, max_runs=2)] == [3.0, 4.0]
