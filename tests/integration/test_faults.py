"""Issue 8 fault tests: during a load, break a service; nothing is lost or applied twice.

Behind the ``fault`` marker (``make test-faults``): they stop and restart the shared local
cluster's services, so they do not run inside ``make test``.
"""

from __future__ import annotations

import pytest

from discorecs.loadtest import run_load
from discorecs.settings import Settings

pytestmark = [pytest.mark.fault, pytest.mark.timeout(1200)]


@pytest.mark.parametrize("fault", ["kill-stream", "restart-kafka", "stop-cassandra"])
def test_fault_loses_and_doubles_nothing(local_cluster: Settings, fault: str) -> None:
    report = run_load(
        local_cluster, rate=3000, duration=90, users=2000, fault=fault, echo=lambda _line: None
    )
    assert report.fault is not None
    assert report.produced > 0
    assert (report.lost, report.duplicated) == (0, 0), report.discrepancies
    assert report.fault.recovery_seconds is not None, "the pipeline did not resume by itself"
