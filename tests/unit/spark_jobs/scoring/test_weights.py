"""Release weights: 1/k over a release's k known genres, and likewise over its styles."""

import numpy as np
import pytest

from discorecs.core.genres import GENRE_INDEX
from spark_jobs.scoring.weights import genre_weights, style_weights


def test_genre_weights_split_one_over_k() -> None:
    w = genre_weights(["Rock", "Jazz", "Pop"])
    assert w.shape == (15,) and w.dtype == np.float32
    for genre in ("Rock", "Jazz", "Pop"):
        assert w[GENRE_INDEX[genre]] == pytest.approx(1 / 3)
    assert w.sum() == pytest.approx(1.0)
    assert np.count_nonzero(w) == 3


def test_genre_weights_ignore_unknown_and_duplicates() -> None:
    assert genre_weights(["Rock", "Rock", "Polka"])[GENRE_INDEX["Rock"]] == pytest.approx(1.0)
    assert not genre_weights([]).any()
    assert not genre_weights(None).any()
    assert not genre_weights(["Polka"]).any()


def test_stacked_genre_weights() -> None:
    m = np.stack([genre_weights(g) for g in (["Electronic"], ["Blues", "Rock"], [])])
    assert m[0, GENRE_INDEX["Electronic"]] == 1.0
    assert m[1, GENRE_INDEX["Blues"]] == pytest.approx(0.5)
    assert m[1, GENRE_INDEX["Rock"]] == pytest.approx(0.5)
    assert not m[2].any()


def test_style_weights() -> None:
    assert style_weights(["House", "Techno", "House"]) == {"House": 0.5, "Techno": 0.5}
    assert style_weights(["Dub", ""]) == {"Dub": 1.0}
    assert style_weights(None) == {}
    assert list(style_weights(["b", "a", "c"])) == ["a", "b", "c"]
