"""The evaluation's outputs: a terminal table, a JSON file and a plot, with 95 % intervals."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

TABLE_METRICS = (
    "recall@10",
    "ndcg@10",
    "hit_rate@10",
    "coverage@10",
    "gini@10",
    "novelty@10",
    "calibration_ckl@10",
    "cold_recall@10",
)
PLOT_METRICS = ("recall@10", "ndcg@10", "coverage@10", "cold_recall@10")


@dataclass
class RankerResult:
    """One ranker's metrics, one value per seed, or the reason it was skipped."""

    name: str
    values: dict[str, list[float]] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)
    skipped: str | None = None

    def add(self, metrics: dict[str, float], seconds: float) -> None:
        """Record one seed's metrics."""
        for name, value in metrics.items():
            self.values.setdefault(name, []).append(value)
        self.seconds.append(seconds)

    def mean(self, metric: str) -> float:
        """Mean over seeds (nan when absent)."""
        values = self.values.get(metric, [])
        return float(np.mean(values)) if values else math.nan

    def interval(self, metric: str) -> float:
        """Half-width of the 95 % interval of the mean over seeds (Student t; nan for one)."""
        values = self.values.get(metric, [])
        if len(values) < 2:
            return math.nan
        sem = float(np.std(values, ddof=1)) / math.sqrt(len(values))
        return float(stats.t.ppf(0.975, len(values) - 1)) * sem


def _cell(result: RankerResult, metric: str) -> str:
    mean, half = result.mean(metric), result.interval(metric)
    if math.isnan(mean):
        return "-"
    return f"{mean:.4f}" if math.isnan(half) else f"{mean:.4f}±{half:.4f}"


def table(results: Sequence[RankerResult], production: str) -> str:
    """A fixed-width table, one row per ranker, the production ranker marked with ``*``."""
    width = max(len(r.name) for r in results) + 2
    header = f"{'ranker':<{width}}" + "".join(f"{m:>20}" for m in TABLE_METRICS) + f"{'s':>8}"
    lines = [header, "-" * len(header)]
    for result in results:
        name = result.name + (" *" if result.name == production else "")
        if result.skipped:
            lines.append(f"{name:<{width}}skipped: {result.skipped}")
            continue
        cells = "".join(f"{_cell(result, m):>20}" for m in TABLE_METRICS)
        seconds = float(np.mean(result.seconds)) if result.seconds else math.nan
        lines.append(f"{name:<{width}}{cells}{seconds:>8.1f}")
    return "\n".join(lines)


def as_json(
    results: Sequence[RankerResult], production: str, about: dict[str, Any]
) -> dict[str, Any]:
    """One object per ranker (mean, ``<metric>_ci95`` half-widths, per-seed values)."""
    rankers = []
    for result in results:
        entry: dict[str, Any] = {"name": result.name}
        if result.skipped:
            entry["skipped"] = result.skipped
        for metric, values in result.values.items():
            entry[metric] = result.mean(metric)
            entry[f"{metric}_ci95"] = (
                None if math.isnan(result.interval(metric)) else (result.interval(metric))
            )
            entry[f"{metric}_per_seed"] = values
        entry["seconds"] = result.seconds
        rankers.append(entry)
    return {"production": production, "about": about, "rankers": rankers}


def json_bytes(document: dict[str, Any]) -> bytes:
    """The JSON document as the ``--json`` file holds it: a figure that is not a number is null.

    JSON has no NaN (a seed without friends, a ranker without a time); ``json.dumps`` would
    write a bare ``NaN`` that strict readers refuse.
    """
    return (json.dumps(finite(document), indent=2, allow_nan=False) + "\n").encode()


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float, at any depth, replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def plot_bytes(results: Sequence[RankerResult], production: str, title: str) -> bytes:
    """A PNG: one panel per metric of :data:`PLOT_METRICS`, a bar per ranker with its interval."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in results if not r.skipped]
    figure, axes = plt.subplots(1, len(PLOT_METRICS), figsize=(4.2 * len(PLOT_METRICS), 4.8))
    names = [r.name for r in shown]
    for axis, metric in zip(axes, PLOT_METRICS, strict=True):
        means = [r.mean(metric) for r in shown]
        errors = [0.0 if math.isnan(r.interval(metric)) else r.interval(metric) for r in shown]
        colours = ["#d62728" if n == production else "#1f77b4" for n in names]
        axis.barh(names, means, xerr=errors, color=colours, capsize=3)
        axis.set_title(metric)
        axis.invert_yaxis()
        axis.grid(axis="x", alpha=0.3)
    for axis in axes[1:]:
        axis.set_yticklabels([])
    figure.suptitle(title)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()
