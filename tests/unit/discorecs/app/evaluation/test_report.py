"""Evaluation report: means with Student-t intervals, JSON per ranker, the plot."""

import json
import math

import pytest
from scipy import stats

from discorecs.app.evaluation.report import (
    RankerResult,
    as_json,
    json_bytes,
    plot_bytes,
    table,
)


def result(name: str, recalls: list[float]) -> RankerResult:
    ranker = RankerResult(name)
    for value in recalls:
        ranker.add({"recall@10": value, "ndcg@10": value / 2}, seconds=1.0)
    return ranker


def test_mean_and_95_percent_interval() -> None:
    ranker = result("a", [0.1, 0.2, 0.3])
    assert ranker.mean("recall@10") == pytest.approx(0.2)
    expected = stats.t.ppf(0.975, 2) * 0.1 / math.sqrt(3)
    assert ranker.interval("recall@10") == pytest.approx(expected)
    assert math.isnan(result("b", [0.1]).interval("recall@10"))
    assert math.isnan(ranker.mean("coverage@10"))


def test_table_marks_production_and_skips() -> None:
    skipped = RankerResult("content", skipped="needs item content")
    text = table(
        [result("most_popular", [0.1, 0.1]), result("hybrid", [0.3, 0.3]), skipped], "hybrid"
    )
    lines = text.splitlines()
    assert lines[0].startswith("ranker") and "recall@10" in lines[0]
    assert any(line.startswith("hybrid *") and "0.3000" in line for line in lines)
    assert any("content" in line and "skipped: needs item content" in line for line in lines)


def test_json_has_one_object_per_ranker_and_the_production_name() -> None:
    document = as_json([result("a", [0.1, 0.3]), result("hybrid", [0.5, 0.5])], "hybrid", {})
    assert document["production"] == "hybrid"
    first = document["rankers"][0]
    assert first["name"] == "a" and first["recall@10"] == pytest.approx(0.2)
    assert first["recall@10_per_seed"] == [0.1, 0.3] and first["recall@10_ci95"] > 0
    json.dumps(document)


def test_plot_is_a_png() -> None:
    assert plot_bytes([result("a", [0.1, 0.2])], "a", "t").startswith(b"\x89PNG")


def test_the_json_file_has_null_where_a_figure_is_not_a_number() -> None:
    document = {"friend_quality": math.nan, "per_seed": [0.5, math.inf], "name": "friend"}
    assert json.loads(json_bytes(document)) == {
        "friend_quality": None,
        "per_seed": [0.5, None],
        "name": "friend",
    }
    assert b"NaN" not in json_bytes(document) and b"Infinity" not in json_bytes(document)
