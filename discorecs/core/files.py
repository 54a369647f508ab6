"""Files written whole or not at all."""

from __future__ import annotations

import fcntl
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

import numpy as np

from discorecs.core.logs import get_logger

log = get_logger("files")


@contextmanager
def exclusive_lock(path: Path) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``path``; yields False if another process holds it.

    The lock goes with its owner's open file, so it is released when the owner exits, even on
    ``kill -9``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A file to write that replaces ``path`` whole, and durably, once the block ends.

    The block writes a temporary file, which is then synced to disk, renamed over the target and
    the folder synced: after an OS crash or power loss the target holds the old content or the
    new, never a part. An exception in the block leaves the target as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    with suppress(OSError):  # some file systems cannot sync a folder; the file is in
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file whole or not at all, and durably (:func:`atomic_file`)."""
    with atomic_file(path) as out:
        out.write(data)


def check_writable(path: Path) -> None:
    """Make sure a file can be written at ``path`` later: its folder made, a probe written there.

    Raises:
        OSError: It cannot (not a folder, no permission, read-only file system ...).

    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, probe = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    os.unlink(probe)


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> bool:
    """Write named arrays as one ``.npz`` (no pickle), whole or not at all.

    For files a later run may use but never needs (:func:`read_arrays` gives None for them
    when absent): a write the system refuses (disk full, no permission) is logged, not raised.

    Returns:
        Whether the file was written.

    """
    try:
        with atomic_file(path) as out:
            np.savez(out, **arrays)
    except OSError as error:
        log.warning("arrays_not_written", path=str(path), error=str(error))
        return False
    return True


def read_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a ``.npz`` written by :func:`write_arrays`; None when absent or unreadable.

    An unreadable file (truncated, not an archive, pickled objects) is logged, not raised.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            return {name: saved[name] for name in saved.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        log.warning("arrays_unreadable", path=str(path), error=str(error))
        return None
