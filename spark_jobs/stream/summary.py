"""The one summary job of a micro-batch: counts, release ids, trending, event-time histogram."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pyspark.sql import DataFrame

from discorecs.core.events import KINDS

SUMMARY_SQL = """
SELECT event_kind, bad, hour, release_id, second, count(*) AS n, grouping(second) AS by_kind
FROM (
  SELECT event_kind, reason IS NOT NULL AS bad, date_trunc('hour', event_time) AS hour,
         release_id, CAST(unix_micros(event_time) DIV 1000000 AS BIGINT) AS second
  FROM {view}
)
GROUP BY GROUPING SETS ((event_kind, bad, hour, release_id), (second))
"""


@dataclass
class BatchSummary:
    """What the summary job tells the driver about a batch."""

    counts: Counter[tuple[str, bool]] = field(default_factory=Counter)
    release_events: Counter[int] = field(default_factory=Counter)
    trending: dict[tuple[datetime, int], int] = field(default_factory=dict)
    seconds_histogram: list[tuple[int, int]] = field(default_factory=list)

    def valid(self, kind: str) -> int:
        """Valid events of ``kind`` (before the release check)."""
        return self.counts[(kind, False)]

    @property
    def rows(self) -> int:
        """Records in the batch, valid or not."""
        return sum(self.counts.values())

    def dead_letters(self, unknown_releases: set[int]) -> int:
        """Invalid records plus valid events of an unknown release."""
        valid = sum(self.valid(kind) for kind in KINDS)
        return self.rows - valid + sum(self.release_events[r] for r in unknown_releases)


def summarize(checked: DataFrame) -> BatchSummary:
    """One job: counts per kind, release ids, activity per (hour, release), event-time seconds."""
    view = "discorecs_micro_batch"
    checked.createOrReplaceTempView(view)
    summary = BatchSummary()
    for row in checked.sparkSession.sql(SUMMARY_SQL.format(view=view)).collect():
        if row.by_kind:
            summary.counts[(row.event_kind, row.bad)] += row.n
            if not row.bad and row.release_id is not None:
                summary.release_events[row.release_id] += row.n
                if row.event_kind == "activity":
                    key = (row.hour, row.release_id)
                    summary.trending[key] = summary.trending.get(key, 0) + row.n
        elif row.second is not None:
            summary.seconds_histogram.append((row.second, row.n))
    return summary


def latencies(histogram: list[tuple[int, int]], now: float) -> list[tuple[float, int]]:
    """Written-time minus event-time of a per-second histogram's events, written ``now``.

    Args:
        histogram: ``(event second, events)`` pairs.
        now: When the events were written, in epoch seconds.

    Returns:
        ``(ms, events)`` pairs, each second's events timed at the middle of their second.

    """
    return [((now - second - 0.5) * 1000, n) for second, n in histogram]


def latency_quantiles(pairs: Iterable[tuple[float, int]]) -> tuple[float, float] | None:
    """(p50, p99) of event latencies given as ``(ms, events)`` pairs, in any order.

    The slowest half of the events define p50, the slowest 1 % p99; None without events.
    """
    ordered = sorted(pairs, reverse=True)
    total = sum(n for _, n in ordered)
    if not total:
        return None
    quantiles = []
    for share in (0.5, 0.01):
        seen = 0
        for ms, n in ordered:
            seen += n
            if seen >= share * total:
                quantiles.append(ms)
                break
    return quantiles[0], quantiles[1]
