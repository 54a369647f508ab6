"""What the hourly run writes: release scores, ``users_scored``, cleared staging, step records."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent_with_args
from pyspark.sql import DataFrame, SparkSession

from discorecs.core.genres import GENRES
from discorecs.core.settings import Settings
from discorecs.core.tables import (
    BATCH_RUNS,
    CHANGED_USERS,
    HOURLY_PIPELINE,
    QUALITY_RUNS,
    RELEASE_SCORES,
    RELEASES,
    USERS_SCORED,
)
from discorecs.core.timing import ProgressLog, StepTimer
from spark_jobs.connector import read_table, write_table
from spark_jobs.scoring.compute import Scores
from spark_jobs.scoring.ranks import drifted, ranks_map
from spark_jobs.scoring.readers import Releases, Stored, few, ids_frame
from spark_jobs.scoring.taste import has_taste
from spark_jobs.scoring.weights import genre_weights, style_weights

WRITE_PART = 50_000
"""Rows of ``users_scored`` per DataFrame written: a local list becomes a DataFrame whose tasks
carry the pickled rows, so a million rows in one would hold ~0.5 GB in the driver's JVM and
send two ~250 MB tasks (over ``spark.rpc.message.maxSize`` on a standalone cluster)."""


def score_releases(
    spark: SparkSession,
    settings: Settings,
    now: datetime,
    fresh: tuple[np.ndarray, int] | None = None,
) -> int:
    """Compute and write the genre/style weights of releases not yet in ``release_scores``.

    Args:
        spark: Session.
        settings: Keyspace.
        now: ``scored_at`` written.
        fresh: The ids of the releases known to be missing (those read by this run and not by
            the last, whose snapshot says which it read) and the number of releases read;
            None: every release not in ``release_scores``, by an anti-join.

    Returns:
        Number of releases newly scored.

    """
    direct = fresh is not None and few(len(fresh[0]), fresh[1])
    releases = read_table(spark, settings, RELEASES, direct_join=direct).select(
        "release_id", "genres", "styles"
    )
    if fresh is None:
        done = read_table(spark, settings, RELEASE_SCORES).select("release_id")
        missing = releases.join(done, "release_id", "left_anti")
    elif len(fresh[0]) == 0:
        return 0
    else:
        missing = ids_frame(spark, "release_id", fresh[0]).join(releases, "release_id")
    scored_at = pd.Timestamp(now.astimezone(UTC).replace(tzinfo=None))

    def weigh(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            yield pd.DataFrame(
                {
                    "release_id": batch["release_id"],
                    "genre_weights": [genre_weights(g).tolist() for g in batch["genres"]],
                    "style_weights": [style_weights(s) for s in batch["styles"]],
                    "scored_at": scored_at,
                }
            )

    out = missing.mapInPandas(weigh, RELEASE_SCORES.spark_schema()).cache()
    rows = out.count()
    if rows:
        write_table(out, settings, RELEASE_SCORES)
    out.unpersist()
    return rows


FRIEND_COLUMNS = (
    "user_id",
    "genre_ranks",
    "friend_id",
    "friend_similarity",
    "release_id",
    "release_title",
)
"""What is rewritten for a rescored user who was not listed again: the friend and the friend's
release. Their taste (and its vector index entry), list and ``scored_at`` stay."""


class ScoredRecords:
    """Builds the ``users_scored`` rows of rescored users, a part at a time.

    Args:
        stored: The users' ids.
        release_ids: Release id of each release row.
        scores: The run's scores and lists.
        titles: Title of each release id a row names.
        scored_at: ``scored_at`` written.

    Attributes:
        list_of: Each user row's row in ``scores.recommendations``, -1 for a user not listed.

    """

    def __init__(
        self,
        stored: Stored,
        release_ids: np.ndarray,
        scores: Scores,
        titles: dict[int, str],
        scored_at: datetime,
    ) -> None:
        self.user_ids = stored.user_ids
        self.release_ids = release_ids
        self.scores = scores
        self.titles = titles
        self.scored_at = scored_at
        self.valid = has_taste(scores.taste)
        self.list_of = np.full(len(scores.taste), -1, dtype=np.int64)
        self.list_of[scores.listed] = np.arange(len(scores.listed))

    def __call__(self, rows: np.ndarray, columns: Sequence[str] | None = None) -> list[tuple]:
        """The rows of the given user rows: every column in declaration order, or ``columns``.

        A user the run did not list gets an empty list in the full row.
        """
        scores, ids, titles = self.scores, self.release_ids, self.titles
        recs = scores.recommendations
        kept = [USERS_SCORED.column_names.index(c) for c in columns] if columns else None
        friend = scores.neighbours.friend
        similarity = scores.neighbours.friend_similarity
        records = []
        for row, picked, at in zip(
            rows.tolist(),
            scores.friend_release[rows].tolist(),
            self.list_of[rows].tolist(),
            strict=True,
        ):
            release = int(ids[picked]) if picked >= 0 else None
            listed = (
                [
                    (int(ids[r]), titles.get(int(ids[r])), float(s))
                    for r, s in zip(
                        recs.releases[at].tolist(), recs.scores[at].tolist(), strict=True
                    )
                    if r >= 0
                ]
                if at >= 0
                else []
            )
            record = (
                int(self.user_ids[row]),
                scores.taste[row].tolist() if self.valid[row] else None,
                GENRES[scores.top_genre[row]] if scores.top_genre[row] >= 0 else None,
                ranks_map(scores.ranks[row]),
                int(self.user_ids[friend[row]]) if friend[row] >= 0 else None,
                float(similarity[row]) if friend[row] >= 0 else None,
                release,
                titles.get(release) if release is not None else None,
                listed,
                int(scores.sizes[row]),
                self.scored_at,
            )
            records.append(record if kept is None else tuple(record[k] for k in kept))
        return records


def parts(count: int, part: int = WRITE_PART) -> list[slice]:
    """Consecutive slices of ``part`` items that cover ``count`` items."""
    return [slice(start, start + part) for start in range(0, count, part)]


def write_scores(
    spark: SparkSession,
    settings: Settings,
    stored: Stored,
    releases: Releases,
    scores: Scores,
    now: datetime,
    step: StepTimer | None = None,
) -> int:
    """Upsert the ``users_scored`` rows of the rescored users (:class:`ScoredRecords`).

    Steps ``write.listed`` (the listed users' whole rows, with their taste vectors) and
    ``write.friends`` (:data:`FRIEND_COLUMNS` of the others), nested in the caller's ``write``.
    Each part's rows are built in Python while the part before is written (:func:`write_rows`).

    Returns:
        Rows written.

    """
    step = step or StepTimer()
    picked = scores.friend_release[scores.rescored]
    used = np.unique(np.concatenate([picked, scores.recommendations.releases.reshape(-1)]))
    used = used[used >= 0]
    titles = dict(zip(releases.ids[used].tolist(), releases.titles[used].tolist(), strict=True))
    scored_at = now.astimezone(UTC).replace(tzinfo=None)
    records = ScoredRecords(stored, releases.ids, scores, titles, scored_at)
    listed = records.list_of[scores.rescored] >= 0
    for name, rows, columns in (
        ("write.listed", scores.rescored[listed], None),
        ("write.friends", scores.rescored[~listed], list(FRIEND_COLUMNS)),
    ):
        with step(name, len(rows)):
            built = (records(rows[at], columns) for at in parts(len(rows)))
            write_rows(spark, settings, built, columns, ProgressLog(name, len(rows)))
    return len(scores.rescored)


def write_rows(
    spark: SparkSession,
    settings: Settings,
    records: Iterable[list[tuple[Any, ...]]],
    columns: list[str] | None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Upsert rows of ``users_scored``, a DataFrame a part (bounded JVM memory).

    The next part is taken from ``records`` (built, when it is a generator) and made a
    DataFrame (pickled and sent to the JVM, a second or two of Python a part) on another
    thread while the current one is written, so the write never waits for it; at most two
    parts are in the JVM at once. The rows are not checked against the schema on the way
    (pyspark's ``verifySchema``, half of that Python time): :class:`ScoredRecords` builds them
    with the schema's types.

    Args:
        spark: Session.
        settings: Keyspace and connector settings.
        records: The parts' rows (of :data:`WRITE_PART` rows or fewer), as
            :class:`ScoredRecords` builds them.
        columns: Their columns (all if None).
        progress: Told the number of rows of each part written, in order.

    """
    schema = USERS_SCORED.spark_schema(columns)
    pending = iter(records)

    def upcoming() -> tuple[DataFrame, int] | None:
        rows = next(pending, None)
        if rows is None:
            return None
        return spark.createDataFrame(rows, schema, verifySchema=False), len(rows)

    with ThreadPoolExecutor(1) as pool:
        following = pool.submit(upcoming)
        while (part := following.result()) is not None:
            following = pool.submit(upcoming)
            frame, count = part
            write_table(frame, settings, USERS_SCORED)
            if progress is not None:
                progress(count)


def rank_updates(stored: Stored, scores: Scores, tolerance: int) -> np.ndarray:
    """The other scored users whose stored genre ranks drifted by more than ``tolerance``.

    Returns:
        Their sorted rows (the rescored users' ranks are written with their row).

    """
    moved = drifted(stored.ranks, scores.ranks, tolerance) & stored.state.scored
    moved[scores.rescored] = False
    return np.flatnonzero(moved)


def write_rank_updates(
    spark: SparkSession, settings: Settings, stored: Stored, scores: Scores, rows: np.ndarray
) -> int:
    """Write ``genre_ranks`` (only that column) of the given rows (:func:`rank_updates`).

    Returns:
        Rows written.

    """
    records = [(int(stored.user_ids[r]), ranks_map(scores.ranks[r])) for r in rows.tolist()]
    write_rows(
        spark, settings, (records[at] for at in parts(len(records))), ["user_id", "genre_ranks"]
    )
    return len(records)


def clear_staged_buckets(
    session: Session, keyspace: str, buckets: Iterable[datetime], written_before: int
) -> int:
    """Clear the staged users of the given hour buckets that were written before a moment.

    One partition deletion per bucket, ``USING TIMESTAMP written_before``: it hides exactly the
    rows staged up to then and leaves one tombstone per bucket, not one per user (a million row
    tombstones would make the next scan fail). Users staged later, into the same buckets or
    again, stay staged for the next run.

    Args:
        session: Driver session.
        keyspace: Keyspace of ``changed_users``.
        buckets: Buckets read at the start of the run.
        written_before: Write timestamp bound (microseconds since the epoch).

    Returns:
        Number of buckets cleared.

    """
    statement = session.prepare(CHANGED_USERS.delete(keyspace, ["bucket"], timestamp=True))
    args = [(written_before, bucket) for bucket in sorted(set(buckets))]
    execute_concurrent_with_args(session, statement, args, raise_on_first_error=True)
    return len(args)


def write_quality(
    session: Session, keyspace: str, run_id: uuid.UUID, figures: dict[str, float]
) -> None:
    """Append the run's online-check figures to ``quality_runs`` (nan figures are left out)."""
    insert = session.prepare(QUALITY_RUNS.insert(keyspace))
    rows = [
        (HOURLY_PIPELINE, run_id, name, value) for name, value in figures.items() if value == value
    ]
    execute_concurrent_with_args(session, insert, rows, raise_on_first_error=True)


class BatchRunLog:
    """Records each step of one run in ``batch_runs`` (pipeline, run_id, step)."""

    def __init__(self, session: Session, keyspace: str, pipeline: str = HOURLY_PIPELINE) -> None:
        self.run_id = uuid.uuid1()
        self.pipeline = pipeline
        self._session = session
        self._insert = session.prepare(BATCH_RUNS.insert(keyspace))

    def record(self, step: str, status: str, rows: int, seconds: float, message: str = "") -> None:
        """Write one step's outcome."""
        self._session.execute(
            self._insert, (self.pipeline, self.run_id, step, status, rows, seconds, message)
        )
