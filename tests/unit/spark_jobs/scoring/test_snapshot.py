"""The hourly snapshot: saved and loaded unchanged, collections carried onto a later run's rows."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.compute import UserState
from spark_jobs.scoring.friends import TasteIndex
from spark_jobs.scoring.id_lists import IdLists
from spark_jobs.scoring.readers import NOTHING_STAGED, Owned, Staged, Stored
from spark_jobs.scoring.snapshot import ARRAYS, FILE_NAME, RunSnapshot, load_snapshot

TAKEN = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def owned(rows: list[list[tuple[int, float]]], n_releases: int) -> Owned:
    """Collections from each row's (release row, added_at) pairs."""
    users = [u for u, row in enumerate(rows) for _ in row]
    releases = [r for row in rows for r, _ in row]
    added = [t for row in rows for _, t in row]
    shape = (len(rows), n_releases)
    ones = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (users, releases)), shape)
    at = sp.csr_matrix((np.array(added, dtype=np.float64), (users, releases)), shape)
    ones.sort_indices()
    at.sort_indices()
    return Owned(ones, at)


def snapshot() -> RunSnapshot:
    """Three users (ids 10, 20, 30; 30 never scored), releases 1..3, their taste index."""
    state = UserState.unscored(3)
    state.taste[:2] = np.eye(15, dtype=np.float32)[:2]
    state.sizes[:] = [2, 1, 0]
    state.friend[:2] = [1, 0]
    state.friend_similarity[:2] = [0.5, 0.5]
    state.scored[:2] = True
    ranks = np.full((3, 15), -1, dtype=np.int16)
    ranks[:2, 0] = [90, 10]
    stored = Stored(
        np.array([10, 20, 30]),
        state,
        ranks,
        NOTHING_STAGED,
        0,
        np.array([1.7e9, 1.7e9, np.nan]),
        IdLists.of([[3], [1, 3], []]),
    )
    collections = owned([[(0, 1.0), (1, 0.0)], [(2, 3.0)], []], 3)
    index = TasteIndex(state.taste).vectors
    return RunSnapshot(uuid.uuid1(), TAKEN, stored, np.array([1, 2, 3]), collections, index)


def test_saved_snapshot_loads_unchanged(tmp_path: Path) -> None:
    saved = snapshot()
    assert saved.save(tmp_path)
    loaded = load_snapshot(tmp_path)
    assert loaded is not None
    assert loaded.run_id == saved.run_id and loaded.full_read_at == TAKEN
    for name in ("taste", "sizes", "friend", "friend_similarity", "scored"):
        np.testing.assert_array_equal(
            getattr(loaded.stored.state, name), getattr(saved.stored.state, name)
        )
    np.testing.assert_array_equal(loaded.stored.ranks, saved.stored.ranks)
    np.testing.assert_array_equal(loaded.stored.scored_at, saved.stored.scored_at)
    assert loaded.stored.recommended.tolist() == [[3], [1, 3], []]
    for name in ("user_items", "added_at"):
        got, want = getattr(loaded.owned, name), getattr(saved.owned, name)
        assert (got != want).nnz == 0 and got.nnz == want.nnz
    assert loaded.index is not None and saved.index is not None
    np.testing.assert_array_equal(loaded.index.vectors, saved.index.vectors)
    assert loaded.index.index.ntotal == 2
    assert not list(tmp_path.glob(".*partial"))


def test_a_run_without_a_taste_index_saves_none(tmp_path: Path) -> None:
    saved = snapshot()
    assert replace(saved, index=None).save(tmp_path)
    loaded = load_snapshot(tmp_path)
    assert loaded is not None and loaded.index is None


def test_missing_or_broken_snapshot_is_none(tmp_path: Path) -> None:
    assert load_snapshot(tmp_path) is None
    (tmp_path / FILE_NAME).write_bytes(b"not a zip")
    assert load_snapshot(tmp_path) is None


def test_a_snapshot_of_an_older_format_is_not_used(tmp_path: Path) -> None:
    assert snapshot().save(tmp_path)
    with np.load(tmp_path / FILE_NAME) as saved:
        assert set(saved.files) == set(ARRAYS)
        older = {name: saved[name] for name in saved.files if name != "full_read_at"}
    np.savez(tmp_path / FILE_NAME, **older)
    assert load_snapshot(tmp_path) is None


def test_stored_scores_move_to_a_larger_user_universe() -> None:
    staged = Staged(np.array([5]), frozenset([TAKEN]))
    stored = snapshot().stored.remapped(np.array([5, 10, 20, 25, 30]), staged, 7)
    np.testing.assert_array_equal(stored.state.friend, [-1, 2, 1, -1, -1])
    np.testing.assert_array_equal(stored.state.scored, [False, True, True, False, False])
    np.testing.assert_array_equal(stored.state.sizes, [0, 2, 1, 0, 0])
    np.testing.assert_array_equal(stored.ranks[:, 0], [-1, 90, 10, -1, -1])
    assert np.isnan(stored.scored_at[[0, 3, 4]]).all() and stored.scored_at[1] == 1.7e9
    assert stored.recommended.tolist() == [[], [3], [1, 3], [], []]
    assert stored.staged is staged and stored.read_at == 7
    np.testing.assert_array_equal(stored.changed_rows, [0])


def test_collections_carried_with_reread_rows_replaced() -> None:
    user_ids, release_ids = np.array([5, 10, 20, 30]), np.array([1, 2, 4])
    reread_rows = np.array([0, 2])
    reread = owned([[(2, 9.0)], [], [(0, 8.0)], []], 3)
    now = snapshot().owned_now(user_ids, release_ids, reread_rows, reread)
    expected = owned([[(2, 9.0)], [(0, 1.0), (1, 0.0)], [(0, 8.0)], []], 3)
    for name in ("user_items", "added_at"):
        got, want = getattr(now, name), getattr(expected, name)
        np.testing.assert_array_equal(got.indptr, want.indptr)
        np.testing.assert_array_equal(got.indices, want.indices)
        np.testing.assert_array_equal(got.data, want.data)


def test_the_pairs_of_some_users_as_the_snapshot_had_them() -> None:
    # This run: users 5 (new), 10 and 20; releases 1, 3 and 4 (2 left the catalogue).
    user_ids, release_ids = np.array([5, 10, 20]), np.array([1, 3, 4])
    added = snapshot().added_at_of(user_ids, release_ids, np.array([2, 0, 1]))
    assert added.shape == (3, 3)
    # User 10 held releases 1 (t=1) and 2 (gone); user 20 held 3 (t=3); user 5 nothing.
    assert added.toarray().tolist() == [[0, 0, 0], [1.0, 0, 0], [0, 3.0, 0]]
    assert snapshot().added_at_of(user_ids, release_ids, np.array([2])).nnz == 1


def test_outside_releases_are_saved_and_carried(tmp_path: Path) -> None:
    saved = snapshot()
    outside = replace(saved, owned=replace(saved.owned, outside_release_ids=np.array([7, 9])))
    assert outside.save(tmp_path)
    loaded = load_snapshot(tmp_path)
    assert loaded is not None
    np.testing.assert_array_equal(loaded.owned.outside_release_ids, [7, 9])
    reread = replace(owned([[], [], [], []], 3), outside_release_ids=np.array([8, 9]))
    now = loaded.owned_now(np.array([5, 10, 20, 30]), np.array([1, 2, 3]), np.array([0]), reread)
    np.testing.assert_array_equal(now.outside_release_ids, [7, 8, 9])


def test_a_snapshot_covers_a_catalogue_that_kept_its_owned_releases() -> None:
    taken = snapshot()
    assert taken.covers(np.array([1, 2, 3]))
    assert taken.covers(np.array([1, 2, 3, 4]))
    assert not taken.covers(np.array([1, 2]))
    outside = replace(taken, owned=replace(taken.owned, outside_release_ids=np.array([7])))
    assert outside.covers(np.array([1, 2, 3, 8]))
    assert not outside.covers(np.array([1, 2, 3, 7]))
