"""Files written whole or not at all."""

from pathlib import Path

import numpy as np
import pytest

from discorecs.core.files import atomic_file, read_arrays, write_arrays, write_atomically


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.json"

    def disk_full(*_args: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr("discorecs.core.files.os.replace", disk_full)
        with pytest.raises(OSError, match="disk full"):
            write_atomically(target, b"half")
    assert list(tmp_path.iterdir()) == []
    write_atomically(target, b"whole")
    assert target.read_bytes() == b"whole" and list(tmp_path.iterdir()) == [target]


def test_a_block_that_fails_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    write_atomically(target, b"old")
    with pytest.raises(ValueError, match="mid-write"), atomic_file(target) as out:
        out.write(b"new, half")
        raise ValueError("mid-write")
    assert target.read_bytes() == b"old" and list(tmp_path.iterdir()) == [target]


def test_arrays_read_back_without_pickle(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "arrays.npz"
    assert write_arrays(target, {"ids": np.arange(3), "name": np.array("run")})
    with np.load(target, allow_pickle=False) as saved:
        assert saved["ids"].tolist() == [0, 1, 2] and str(saved["name"]) == "run"


def test_absent_or_broken_arrays_are_none(tmp_path: Path) -> None:
    target = tmp_path / "arrays.npz"
    assert read_arrays(target) is None
    target.write_bytes(b"not an archive")
    assert read_arrays(target) is None
    write_arrays(target, {"ids": np.arange(2)})
    arrays = read_arrays(target)
    assert arrays is not None and arrays["ids"].tolist() == [0, 1]


def test_a_refused_array_write_is_logged_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "arrays.npz"

    def disk_full(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("discorecs.core.files.os.replace", disk_full)
    assert write_arrays(target, {"ids": np.arange(2)}) is False
    assert list(tmp_path.iterdir()) == []
