"""The stream's durability barrier against the real nodes' commit log settings."""

from __future__ import annotations

import pytest

from discorecs.core.cassandra import commitlog_lag_block_s, session_scope
from discorecs.core.settings import Settings
from discorecs.core.tables import STREAM_PIPELINE
from spark_jobs.stream.driver_state import DriverState, barrier_wait_s


def barrier_rows(settings: Settings, state: DriverState) -> list[tuple[str, int]]:
    with session_scope(settings) as session:
        query = session.prepare(
            f"SELECT step, rows FROM {settings.keyspace}.batch_runs "
            "WHERE pipeline = ? AND run_id = ?"
        )
        return [
            (row.step, row.rows) for row in session.execute(query, (STREAM_PIPELINE, state.run_id))
        ]


def test_the_nodes_commit_log_lag_block_is_one_and_a_half_sync_periods(
    keyspace: Settings,
) -> None:
    with session_scope(keyspace) as session:
        block = commitlog_lag_block_s(session)
    assert block == pytest.approx(1.5 * keyspace.cassandra.commitlog_sync_period_ms / 1000)


def test_a_batch_waits_past_the_lag_block_then_writes_its_barrier_row(keyspace: Settings) -> None:
    state = DriverState(keyspace)
    try:
        block = commitlog_lag_block_s(state.session)
        assert state.make_durable(7) == pytest.approx(barrier_wait_s(block))
        assert state.make_durable(8) == pytest.approx(barrier_wait_s(block))
    finally:
        state.close()
    assert barrier_rows(keyspace, state) == [("durable", 8)]


def test_the_barrier_turned_off_neither_waits_nor_writes(keyspace: Settings) -> None:
    settings = keyspace.with_updates(streaming={"durability_barrier": False})
    state = DriverState(settings)
    try:
        assert state.make_durable(1) == 0.0
    finally:
        state.close()
    assert barrier_rows(settings, state) == []
