"""The last finished hourly run's state on local disk, so the next run reads only what changed.

At its end a run saves what ``users_scored`` and ``user_collection`` held for it: the stored
scores after its writes (:meth:`~.compute.Scores.next_state`, the genre ranks, scoring times and
lists) and every collection it read, with its user and release ids, and its taste index (which
the next run extends: :func:`~.friends.extended_index`). The next run trusts the
file only when it belongs to the newest earlier run in ``batch_runs`` and that run recorded its
``snapshot`` step (so it wrote everything the file says), and while the full read that began
this chain of snapshots is younger than ``scoring.snapshot_hours`` (so the tables are read whole
at least that often, and whatever changed them outside the pipeline is picked up), and while
its collections cover the catalogue (:meth:`RunSnapshot.covers`: no owned release has left it,
none of the releases a collection held outside it has joined it). Then the
run reads no ``users`` or ``users_scored`` row (its users are the file's and the staged ones)
and only the collections of the users staged now (a direct join on the partition key), instead
of the whole table; anything else falls back to the full read. That is every collection changed
since that run read them: the stream stages a user only once the user's changes are written,
reads and writes are at QUORUM, and the run clears only the staged rows written at least
``scoring.staging_margin_s`` before its read of them, so a user staged after that read (or just
before it) stays staged for the next run. The file is one ``.npz`` (no pickle), replaced
atomically (a half-written or unreadable file is a full read).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from cassandra.cluster import Session

from discorecs.core.files import read_arrays, write_arrays
from discorecs.core.logs import get_logger
from discorecs.core.tables import BATCH_RUNS
from spark_jobs.scoring.compute import Scores, UserState
from spark_jobs.scoring.friends import VectorIndex
from spark_jobs.scoring.id_lists import IdLists
from spark_jobs.scoring.ranks import NO_RANK
from spark_jobs.scoring.readers import NOTHING_STAGED, Owned, Stored
from spark_jobs.scoring.recommend import find_sorted
from spark_jobs.scoring.writers import BatchRunLog

log = get_logger("scoring")

STEP = "snapshot"
"""The ``batch_runs`` step a run records once its snapshot is saved."""

FILE_NAME = "hourly.npz"
ARRAYS = (
    "run_id",
    "full_read_at",
    "user_ids",
    "taste",
    "sizes",
    "friend",
    "friend_similarity",
    "scored",
    "ranks",
    "scored_at",
    "recommended_ptr",
    "recommended",
    "release_ids",
    "owned_ptr",
    "owned_rows",
    "added_at",
    "outside_release_ids",
    "index_graph",
    "index_vectors",
)
"""The arrays of a snapshot file; a file missing any (an older format) is not used."""


@dataclass(frozen=True)
class RunSnapshot:
    """What the tables held for one finished run.

    Attributes:
        run_id: The run that saved it.
        full_read_at: When the run that last read the tables whole started (UTC): the chain of
            snapshots since then is trusted for ``scoring.snapshot_hours`` from that moment.
        stored: ``users_scored`` after the run's writes (its staged rows empty).
        release_ids: The release id of each column of ``owned``.
        owned: Every collection the run read.
        index: The run's taste index, for the next run to extend (None when it had none).

    """

    run_id: uuid.UUID
    full_read_at: datetime
    stored: Stored
    release_ids: np.ndarray
    owned: Owned
    index: VectorIndex | None

    def covers(self, release_ids: np.ndarray) -> bool:
        """Whether its collections hold every pair of this catalogue's releases.

        Not when a release some collection held has left the catalogue (its pairs would be lost
        for the users not read again), nor when a release whose pairs a run left out (not in
        the catalogue then, :attr:`.readers.Owned.outside_release_ids`) is in it now (their
        pairs would stay missing until the next full read, and the friend rule could name a
        release the user owns).

        Args:
            release_ids: This run's release ids (sorted).

        """
        owned = self.release_ids[self.owned.owners() > 0]
        lost = ~np.isin(owned, release_ids)
        found = np.isin(self.owned.outside_release_ids, release_ids)
        return not (lost.any() or found.any())

    def owned_now(
        self, user_ids: np.ndarray, release_ids: np.ndarray, rows: np.ndarray, reread: Owned
    ) -> Owned:
        """The collections now: the snapshot's, with the re-read rows replaced.

        Only for a catalogue the snapshot :meth:`covers`.

        Args:
            user_ids: This run's user ids (holding every id of the snapshot).
            release_ids: This run's release ids.
            rows: This run's user rows that were read again.
            reread: Their collections (other rows empty), as rows of this run.

        """
        old = self.owned.user_items
        users = np.repeat(np.arange(old.shape[0]), np.diff(old.indptr))
        user_rows = np.searchsorted(user_ids, self.stored.user_ids)[users]
        release_at, release_known = find_sorted(release_ids, self.release_ids)
        release_rows, known = release_at[old.indices], release_known[old.indices]
        keep = known & ~np.isin(user_rows, rows)
        fresh = reread.user_items
        fresh_users = np.repeat(np.arange(fresh.shape[0]), np.diff(fresh.indptr))
        where = (
            np.concatenate([user_rows[keep], fresh_users]),
            np.concatenate([release_rows[keep], fresh.indices]),
        )
        shape = (len(user_ids), len(release_ids))

        added = np.concatenate([self.owned.added_at.data[keep], reread.added_at.data])
        added_at = sp.csr_matrix((added, where), shape=shape)
        added_at.sort_indices()
        return Owned.of_added_at(
            added_at, np.union1d(self.owned.outside_release_ids, reread.outside_release_ids)
        )

    def added_at_of(
        self, user_ids: np.ndarray, release_ids: np.ndarray, rows: np.ndarray
    ) -> sp.csr_matrix:
        """When each pair of some of this run's users was added, as the snapshot had them.

        What the online check needs to tell an add from an add of a release owned already.

        Args:
            user_ids: This run's user ids (sorted).
            release_ids: This run's release ids (sorted).
            rows: The user rows wanted; the other rows are empty, as are the users the
                snapshot does not hold and the releases outside this catalogue.

        """
        at, held = find_sorted(self.stored.user_ids, user_ids[rows])
        then = sp.csr_matrix(self.owned.added_at[at[held]])
        users = np.repeat(rows[held], np.diff(then.indptr))
        release_rows, known = find_sorted(release_ids, self.release_ids[then.indices])
        where = (users[known], release_rows[known])
        shape = (len(user_ids), len(release_ids))
        added_at = sp.csr_matrix((then.data[known], where), shape=shape)
        added_at.sort_indices()
        return added_at

    def save(self, folder: Path) -> bool:
        """Write the snapshot as ``folder/hourly.npz``, replacing any earlier one atomically.

        Returns:
            Whether it was written (a refused write is logged, and the next run reads all).

        """
        stored, state = self.stored, self.stored.state
        graph, vectors = (
            self.index.to_arrays()
            if self.index is not None
            else (np.zeros(0, dtype=np.uint8), np.zeros((0, 0), dtype=np.float32))
        )
        arrays = {
            "run_id": np.array(str(self.run_id)),
            "full_read_at": np.array(self.full_read_at.timestamp()),
            "user_ids": stored.user_ids,
            "taste": state.taste,
            "sizes": state.sizes,
            "friend": state.friend,
            "friend_similarity": state.friend_similarity,
            "scored": state.scored,
            "ranks": stored.ranks,
            "scored_at": stored.scored_at,
            "recommended_ptr": stored.recommended.ptr,
            "recommended": stored.recommended.ids,
            "release_ids": self.release_ids,
            "owned_ptr": self.owned.user_items.indptr,
            "owned_rows": self.owned.user_items.indices,
            "added_at": self.owned.added_at.data,
            "outside_release_ids": self.owned.outside_release_ids,
            "index_graph": graph,
            "index_vectors": vectors,
        }
        return write_arrays(folder / FILE_NAME, arrays)


def load_snapshot(folder: Path) -> RunSnapshot | None:
    """The snapshot in ``folder``, or None when there is none or it cannot be read (logged)."""
    arrays = read_arrays(folder / FILE_NAME)
    if arrays is None:
        return None
    missing = sorted(set(ARRAYS) - set(arrays))
    if missing:
        log.warning("snapshot_unreadable", missing=missing)
        return None
    user_ids, release_ids = arrays["user_ids"], arrays["release_ids"]
    shape = (len(user_ids), len(release_ids))
    pattern = (arrays["owned_rows"], arrays["owned_ptr"])
    state = UserState(
        arrays["taste"],
        arrays["sizes"],
        arrays["friend"],
        arrays["friend_similarity"],
        arrays["scored"],
    )
    stored = Stored(
        user_ids,
        state,
        arrays["ranks"],
        NOTHING_STAGED,
        0,
        arrays["scored_at"],
        IdLists(arrays["recommended_ptr"], arrays["recommended"]),
    )
    return RunSnapshot(
        uuid.UUID(str(arrays["run_id"])),
        datetime.fromtimestamp(float(arrays["full_read_at"]), UTC),
        stored,
        release_ids,
        Owned.of_added_at(
            sp.csr_matrix((arrays["added_at"], *pattern), shape=shape),
            arrays["outside_release_ids"],
        ),
        VectorIndex.from_arrays(arrays["index_graph"], arrays["index_vectors"]),
    )


def after_run(
    run_id: uuid.UUID,
    now: datetime,
    stored: Stored,
    release_ids: np.ndarray,
    owned: Owned,
    scores: Scores,
    rank_rows: np.ndarray,
    full_read_at: datetime,
) -> RunSnapshot:
    """What the tables hold once a run has written ``scores`` over ``stored``.

    Args:
        run_id: The run.
        now: Its start, written as each listed user's ``scored_at``.
        stored: What it read from ``users_scored``.
        release_ids: Its release rows.
        owned: The collections it read.
        scores: What it wrote.
        rank_rows: The other rows whose genre ranks it wrote.
        full_read_at: When the tables were last read whole (``now`` if by this run).

    """
    state = scores.next_state(stored.state)
    state.friend_similarity[state.friend < 0] = np.nan
    written = np.zeros(len(stored.user_ids), dtype=bool)
    written[scores.rescored] = written[rank_rows] = True
    ranks = np.where(written[:, None], scores.ranks, stored.ranks)
    ranks = np.where(state.scored[:, None], ranks, NO_RANK).astype(np.int16)
    scored_at = stored.scored_at.copy()
    scored_at[scores.listed] = np.floor(now.timestamp() * 1000) / 1000
    recommended = stored.recommended.replaced(
        scores.listed, IdLists.of_padded(scores.recommendations.releases, release_ids)
    )
    after = Stored(stored.user_ids, state, ranks, NOTHING_STAGED, 0, scored_at, recommended)
    return RunSnapshot(
        run_id,
        full_read_at,
        after,
        release_ids,
        owned,
        scores.index.vectors,
    )


def trusted_snapshot(
    session: Session,
    keyspace: str,
    folder: Path,
    current: BatchRunLog,
    max_age_hours: float,
    now: datetime,
) -> RunSnapshot | None:
    """The snapshot in ``folder`` if the newest run before ``current`` saved it (module docstring).

    Args:
        session: Cassandra session.
        keyspace: Keyspace of ``batch_runs``.
        folder: Where snapshots are saved.
        current: This run's log (its own steps are not an earlier run's).
        max_age_hours: Hours since the last full read that a snapshot is trusted (0: none).
        now: This run's start.

    Returns:
        The snapshot, or None (logged with the reason).

    """
    if max_age_hours <= 0:
        return None
    select = BATCH_RUNS.select(
        keyspace, ["run_id", "step", "status"], where=["pipeline", "run_id <"], limit=200
    )
    rows = list(session.execute(session.prepare(select), (current.pipeline, current.run_id)))
    last = rows[0].run_id if rows else None
    if not any(r.run_id == last and r.step == STEP and r.status == "ok" for r in rows):
        log.info("snapshot_not_used", reason="the last run saved none")
        return None
    snapshot = load_snapshot(folder)
    if snapshot is None or snapshot.run_id != last:
        log.info("snapshot_not_used", reason="no snapshot of the last run here")
        return None
    if (now - snapshot.full_read_at).total_seconds() > max_age_hours * 3600:
        log.info("snapshot_not_used", reason=f"the last full read is older than {max_age_hours} h")
        return None
    return snapshot
