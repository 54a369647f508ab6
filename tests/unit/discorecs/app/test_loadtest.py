"""When a load run counts as held: p99 under the limit and a lag that does not grow."""

from discorecs.app.loadtest import LoadReport, Tick
from discorecs.app.verify import Discrepancy

RATE = 100.0
DURATION = 30.0


def report(lags: list[int], p99: float | None = 1000.0, drain: list[int] = ()) -> LoadReport:
    """A run of ``len(lags)`` one-second ticks, then optional ticks after the produce phase."""
    ticks = [Tick(float(t + 1), 0, 0, lag, p99) for t, lag in enumerate(lags)]
    ticks += [Tick(DURATION + 1 + t, 0, 0, lag, None) for t, lag in enumerate(drain)]
    return LoadReport(
        rate=RATE,
        duration=DURATION,
        produced=3000,
        produce_failed=0,
        produced_rate=RATE,
        consumed_rate=RATE,
        max_lag=max(lags),
        latency_p50_ms=200.0,
        latency_p99_ms=p99,
        dead_letters=0,
        discrepancies=[Discrepancy("collections", 2, 1), Discrepancy("users", 0, 3)],
        ticks=ticks,
    )


def test_a_flat_lag_under_the_p99_limit_held() -> None:
    assert report([300] * 30).held()
    assert report([300] * 30, p99=5000.0).held()


def test_a_p99_over_the_limit_did_not_hold() -> None:
    assert not report([300] * 30, p99=5000.1).held()
    assert not report([300] * 30, p99=900.0).held(p99_limit_ms=800.0)
    assert not report([300] * 30, p99=None).held()


def test_a_growing_lag_did_not_hold() -> None:
    growing = [0] * 20 + [200 * t for t in range(1, 11)]
    assert not report(growing).held()
    steep = [10 * (t + 1) ** 2 for t in range(30)]
    assert not report(steep).held()


def test_lag_noise_below_five_seconds_of_events_still_held() -> None:
    assert report([0] * 20 + [int(RATE * 5)] * 10).held()
    assert not report([0] * 20 + [int(RATE * 5) + 1] * 10).held()


def test_the_drain_after_the_produce_phase_does_not_count() -> None:
    assert report([300] * 30, drain=[10**6] * 10).held()


def test_lost_and_duplicated_sum_the_discrepancies() -> None:
    run = report([0] * 30)
    assert (run.lost, run.duplicated) == (2, 4)
