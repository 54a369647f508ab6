"""The item-to-item source saved by one hourly run and restored by the next, by release id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from spark_jobs.scoring.item_models import (
    FILE_NAME,
    item_models,
    restore_item_models,
    save_item_models,
)
from spark_jobs.scoring.rankers.ease import EASE
from spark_jobs.scoring.rankers.itemknn import ItemKNN
from spark_jobs.scoring.rankers.trending import Trending
from tests.unit.spark_jobs.scoring.rankers.worlds import two_groups

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def fitted() -> tuple[EASE, np.ndarray]:
    train = two_groups()
    model = EASE(lam=10.0)
    model.fit(train)
    return model, 100 + np.arange(train.n_items)


def test_only_item_to_item_sources_with_a_saved_form_are_kept() -> None:
    assert [type(m) for m in item_models([Trending(), ItemKNN(), EASE()])] == [EASE]


def test_restored_model_lists_what_the_fitted_one_lists(tmp_path: Path) -> None:
    model, release_ids = fitted()
    save_item_models(tmp_path, [model], release_ids, NOW)
    train = two_groups()
    again = EASE(lam=10.0)
    later = NOW + timedelta(hours=3)
    assert restore_item_models(tmp_path, [again], train, release_ids, 24.0, later)
    users = np.arange(train.n_users)
    assert again.train is train
    want, got = model.recommend(users, 5), again.recommend(users, 5)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)


def test_items_follow_their_release_ids(tmp_path: Path) -> None:
    model, release_ids = fitted()
    save_item_models(tmp_path, [model], release_ids, NOW)
    train = two_groups()
    # Release 100 (row 0) is gone; a new release 99 takes row 0: the rest keep their rows.
    now_ids = np.concatenate([[99], release_ids[1:]])
    ease = EASE(lam=10.0)
    assert restore_item_models(tmp_path, [ease], train, now_ids, 24.0, NOW)
    assert 0 not in ease.items and np.array_equal(ease.items, model.items[1:])
    np.testing.assert_array_equal(ease.weights, model.weights[1:, 1:])


def test_old_missing_or_broken_fits_are_not_restored(tmp_path: Path) -> None:
    model, release_ids = fitted()
    train = two_groups()
    fresh = [EASE(lam=10.0)]
    assert not restore_item_models(tmp_path, fresh, train, release_ids, 24.0, NOW)
    save_item_models(tmp_path, [], release_ids, NOW)
    assert not restore_item_models(tmp_path, fresh, train, release_ids, 24.0, NOW)
    save_item_models(tmp_path, [model], release_ids, NOW)
    late = NOW + timedelta(hours=25)
    assert not restore_item_models(tmp_path, fresh, train, release_ids, 24.0, late)
    assert not restore_item_models(tmp_path, fresh, train, release_ids, 0.0, NOW)
    (tmp_path / FILE_NAME).write_bytes(b"broken")
    assert not restore_item_models(tmp_path, fresh, train, release_ids, 24.0, NOW)
    assert not hasattr(fresh[0], "weights")
