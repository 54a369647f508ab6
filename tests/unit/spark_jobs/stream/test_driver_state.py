"""The durability barrier: wait past the nodes' commit log lag block, then one write."""

from types import SimpleNamespace

import pytest

from discorecs.core.settings import Settings
from spark_jobs.stream import driver_state
from spark_jobs.stream.driver_state import PIPELINE, DriverState, barrier_wait_s


class FakeSession:
    def __init__(self) -> None:
        self.writes: list[tuple[object, ...]] = []

    def prepare(self, query: str) -> str:
        return query

    def execute(self, _statement: str, params: tuple[object, ...]) -> None:
        self.writes.append(params)


def state_with(
    monkeypatch: pytest.MonkeyPatch, lag_block_s: float, *, barrier: bool = True
) -> tuple[DriverState, list]:
    slept: list[float] = []
    monkeypatch.setattr(driver_state, "commitlog_lag_block_s", lambda _session: lag_block_s)
    monkeypatch.setattr(driver_state, "time", SimpleNamespace(sleep=slept.append))
    settings = Settings(keyspace="ks").with_updates(streaming={"durability_barrier": barrier})
    state = DriverState(settings)
    state._session = FakeSession()  # type: ignore[assignment]
    return state, slept


@pytest.mark.parametrize(("block", "wait"), [(0.15, 0.18), (0.03, 0.04), (15.0, 18.0)])
def test_the_wait_is_a_fifth_more_than_the_lag_block(block: float, wait: float) -> None:
    assert barrier_wait_s(block) == pytest.approx(wait)


def test_a_periodic_commit_log_gets_a_wait_then_one_barrier_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state, slept = state_with(monkeypatch, 0.15)
    assert state.make_durable(7) == pytest.approx(0.18)
    assert state.make_durable(8) == pytest.approx(0.18)
    assert slept == [pytest.approx(0.18)] * 2
    session = state._session
    assert [w[:5] for w in session.writes] == [  # type: ignore[union-attr]
        (PIPELINE, state.run_id, "durable", "ok", 7),
        (PIPELINE, state.run_id, "durable", "ok", 8),
    ]


def test_a_commit_log_synced_before_acknowledging_needs_no_barrier(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state, slept = state_with(monkeypatch, 0.0)
    assert state.make_durable(1) == 0.0
    assert slept == [] and state._session.writes == []  # type: ignore[union-attr]


def test_the_barrier_turned_off_neither_waits_nor_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    state, slept = state_with(monkeypatch, 0.15, barrier=False)
    assert state.make_durable(1) == 0.0
    assert slept == [] and state._session.writes == []  # type: ignore[union-attr]
