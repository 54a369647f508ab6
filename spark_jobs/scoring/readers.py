"""What the hourly run reads from Cassandra, through Spark, into the arrays the rules work on.

Spark reads the tables and aggregates what is big (recent trending; the activity of the users
a run needs, through the connector's direct join on the partition key when they are few, else
a scan whose other users' pairs are dropped here: :func:`read_of_users`); collections are
read whole on a full run, and only the staged users' on a run that trusts the snapshot
(:mod:`.snapshot`), for the hybrid's models and the scoring rules alike.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from discorecs.core.catalog import CATALOG_COLUMNS, ReleaseCatalog
from discorecs.core.genres import GENRES
from discorecs.core.logs import get_logger
from discorecs.core.settings import Settings
from discorecs.core.tables import (
    CHANGED_USERS,
    RELEASE_TRENDING_BATCHES,
    RELEASES,
    USER_ACTIVITY,
    USER_COLLECTION,
    USERS,
    USERS_SCORED,
    Table,
    trending_hours,
)
from spark_jobs.connector import read_table
from spark_jobs.scoring.compute import UserState
from spark_jobs.scoring.id_lists import IdLists
from spark_jobs.scoring.rankers.base import ItemContent
from spark_jobs.scoring.ranks import NO_RANK
from spark_jobs.scoring.recommend import (
    Collections,
    ReleaseFeatures,
    Styles,
    find_sorted,
    group_starts,
)

log = get_logger("scoring")


@dataclass(frozen=True)
class Staged:
    """The ``changed_users`` rows a run read, as arrays: flat in memory at any backlog.

    Attributes:
        user_ids: One per row (a user staged in several buckets comes once for each).
        buckets: The hour buckets the rows were in.

    """

    user_ids: np.ndarray
    buckets: frozenset[datetime]

    def __len__(self) -> int:
        return len(self.user_ids)


NOTHING_STAGED = Staged(np.zeros(0, dtype=np.int64), frozenset())


@dataclass
class Stored:
    """What ``users_scored`` and ``changed_users`` held at the start of the run.

    Attributes:
        user_ids: Every known user id, sorted; positions in it are the user rows.
        state: The stored scores per user row.
        ranks: The stored genre percentiles per user row.
        staged: The rows staged as changed.
        read_at: When they were read (microseconds since the epoch, the unit of write times).
        scored_at: When each user row was last scored (seconds since the epoch, nan if never).
        recommended: The release ids each user row was last recommended (empty if never).

    """

    user_ids: np.ndarray
    state: UserState
    ranks: np.ndarray
    staged: Staged
    read_at: int
    scored_at: np.ndarray
    recommended: IdLists

    @property
    def changed_rows(self) -> np.ndarray:
        """Sorted user rows of the staged users."""
        return np.unique(np.searchsorted(self.user_ids, self.staged.user_ids)).astype(np.int64)

    def remapped(self, user_ids: np.ndarray, staged: Staged, read_at: int) -> Stored:
        """The same stored scores over a larger user universe, with this run's staged rows.

        Args:
            user_ids: Sorted ids holding every id of :attr:`user_ids`.
            staged: The staged rows read now.
            read_at: When they were read.

        """
        rows = np.searchsorted(user_ids, self.user_ids)
        state = UserState.unscored(len(user_ids), self.state.taste.shape[1])
        state.taste[rows] = self.state.taste
        state.sizes[rows] = self.state.sizes
        state.friend_similarity[rows] = self.state.friend_similarity
        state.scored[rows] = self.state.scored
        has_friend = self.state.friend >= 0
        state.friend[rows[has_friend]] = rows[self.state.friend[has_friend]]
        ranks = np.full((len(user_ids), self.ranks.shape[1]), NO_RANK, dtype=np.int16)
        ranks[rows] = self.ranks
        scored_at = np.full(len(user_ids), np.nan)
        scored_at[rows] = self.scored_at
        recommended = self.recommended.spread(rows, len(user_ids))
        return Stored(user_ids, state, ranks, staged, read_at, scored_at, recommended)


DIRECT_JOIN_SHARE = 0.1
"""Users read by partition key (a forced direct join) when at most this share of all users;
for more, the whole table is scanned. Measured at 100K users, 2 000 users' collections:
a direct join ~0.8 ms a user, the whole table's scan ~0.09 ms a user (break-even ~11 %)."""


def few(users: int, of_users: int) -> bool:
    """Whether ``users`` of ``of_users`` are few enough for a forced direct join."""
    return users <= DIRECT_JOIN_SHARE * of_users


def ids_frame(spark: SparkSession, column: str, ids: np.ndarray) -> DataFrame:
    """A one-column DataFrame of ids, to join with a table's partition key."""
    return spark.createDataFrame(pd.DataFrame({column: ids.astype(np.int64)}))


def read_of_users(
    spark: SparkSession,
    settings: Settings,
    table: Table,
    user_ids: np.ndarray,
    rows: np.ndarray | None,
) -> DataFrame:
    """A table partitioned by ``user_id``, holding at least the partitions of the given rows.

    When the rows are :func:`few`, their ids are joined directly to the partition key, so the
    cost follows those users only; otherwise (or with ``rows`` None) the table is read whole,
    since a join with many ids would scan it too: drop the other users' pairs after reading
    with :func:`asked_pairs`.

    Args:
        spark: Session.
        settings: Keyspace.
        table: The table.
        user_ids: The run's user ids (sorted).
        rows: The user rows asked for; None: all.

    """
    if rows is None or not few(len(rows), len(user_ids)):
        return read_table(spark, settings, table)
    partitions = read_table(spark, settings, table, direct_join=True)
    return ids_frame(spark, "user_id", user_ids[rows]).join(partitions, "user_id")


def id_rows(ids: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's position in ``ids`` (distinct), and whether it is there at all (else 0).

    By a hash index rather than :func:`~.recommend.find_sorted`'s binary search: the 19M pairs'
    release ids of the 1M world among 200K in 0.2-1.1 s against 1.9-2.7 s.
    """
    at = pd.Index(ids).get_indexer(values)
    known = at >= 0
    return np.where(known, at, 0), known


def asked_pairs(
    pairs: pd.DataFrame, user_ids: np.ndarray, rows: np.ndarray | None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The pairs of :func:`read_of_users` that are the given user rows' (all with ``rows`` None).

    A scan's rows come by partition key, so each run of one user's pairs is looked up once
    (:func:`id_rows`): 0.3-0.4 s for the 1M world's 19M pairs, 0.9-1.7 s by a binary search
    of every pair.

    Returns:
        Those pairs, each one's user row, and whether its user is in ``user_ids`` at all (always
        so for given rows; with ``rows`` None a pair of an unknown user is kept, to be logged).

    """
    users = pairs["user_id"].to_numpy(np.int64)
    heads = group_starts(users)
    at, known = id_rows(user_ids, users[heads])
    lengths = np.diff(np.append(heads, len(users)))
    at, known = np.repeat(at, lengths), np.repeat(known, lengths)
    if rows is None:
        return pairs, at, known
    chosen = np.zeros(len(user_ids), dtype=bool)
    chosen[rows] = True
    keep = known & chosen[at]
    return pairs[keep], at[keep], known[keep]


def read_staged(spark: SparkSession, settings: Settings, hour: datetime) -> Staged:
    """The ``changed_users`` rows of the buckets up to ``hour`` (through Arrow, not as rows)."""
    rows = (
        read_table(spark, settings, CHANGED_USERS)
        .filter(F.col("bucket") <= F.lit(hour.replace(tzinfo=None)))
        .select("bucket", "user_id")
        .toPandas()
    )
    buckets = pd.to_datetime(rows["bucket"]).drop_duplicates()
    return Staged(
        rows["user_id"].to_numpy(dtype=np.int64),
        frozenset(bucket.to_pydatetime() for bucket in buckets),
    )


def read_scored(spark: SparkSession, settings: Settings) -> pd.DataFrame:
    """The stored scores of every scored user.

    Taste, friend, size, genre ranks (in genre order), scoring time and listed release ids.
    """
    return (
        read_table(spark, settings, USERS_SCORED)
        .select(
            "user_id",
            "taste",
            "friend_id",
            "friend_similarity",
            "collection_size",
            "scored_at",
            F.col("recommendations.release_id").alias("recommended"),
            F.array(*[F.col("genre_ranks")[g] for g in GENRES]).alias("ranks"),
        )
        .toPandas()
    )


def stored_state(user_ids: np.ndarray, scored: pd.DataFrame) -> tuple[UserState, np.ndarray]:
    """The :class:`UserState` and genre ranks of every user row, from :func:`read_scored`."""
    state = UserState.unscored(len(user_ids), len(GENRES))
    ranks = np.full((len(user_ids), len(GENRES)), NO_RANK, dtype=np.int16)
    rows = np.searchsorted(user_ids, scored["user_id"].to_numpy(np.int64))
    state.scored[rows] = True
    for row, vector, rank in zip(rows, scored["taste"], scored["ranks"], strict=True):
        if vector is not None:
            state.taste[row] = np.asarray(vector, dtype=np.float32)
        ranks[row] = [NO_RANK if r is None or pd.isna(r) else int(r) for r in rank]
    state.sizes[rows] = scored["collection_size"].fillna(0).to_numpy(np.int64)
    friend_rows, known = find_sorted(user_ids, scored["friend_id"].fillna(-1).to_numpy(np.int64))
    state.friend[rows[known]] = friend_rows[known]
    state.friend_similarity[rows] = scored["friend_similarity"].to_numpy(
        np.float32, na_value=np.nan
    )
    return state, ranks


def read_stored(
    spark: SparkSession, settings: Settings, hour: datetime, earlier: Stored | None = None
) -> Stored:
    """Read the staged users, the stored scores and the user universe into driver arrays.

    The universe is every user with a profile, a score or a staging row. Without ``earlier``
    ``users`` is scanned for the profiles' ids; with it, the universe is the last run's grown by
    the staged ids: the stream stages every user whose profile arrives, as it does every user
    whose collection changes, so a user new since the last run is among the staged ones.

    Args:
        spark: Session.
        settings: Keyspace.
        hour: Newest bucket of ``changed_users`` to read.
        earlier: What ``users_scored`` holds and the last run's user ids, known without reading
            them (the last run's snapshot, :mod:`.snapshot`); only the staged users are read then.

    Returns:
        The state before this run.

    """
    read_at = time.time_ns() // 1000
    staged = read_staged(spark, settings, hour)
    if earlier is not None:
        return earlier.remapped(np.union1d(earlier.user_ids, staged.user_ids), staged, read_at)
    profiles = read_table(spark, settings, USERS).select("user_id").toPandas()
    scored = read_scored(spark, settings)
    user_ids = np.unique(
        np.concatenate(
            [
                profiles["user_id"].to_numpy(np.int64),
                scored["user_id"].to_numpy(np.int64),
                staged.user_ids,
            ]
        )
    )
    state, ranks = stored_state(user_ids, scored)
    rows = np.searchsorted(user_ids, scored["user_id"].to_numpy(np.int64))
    scored_at = np.full(len(user_ids), np.nan)
    since_epoch = pd.to_datetime(scored["scored_at"], utc=True) - pd.Timestamp(0, tz=UTC)
    scored_at[rows] = since_epoch.dt.total_seconds().to_numpy(np.float64, na_value=np.nan)
    recommended = IdLists.of(scored["recommended"].tolist()).spread(rows, len(user_ids))
    return Stored(user_ids, state, ranks, staged, read_at, scored_at, recommended)


@dataclass(frozen=True)
class Releases:
    """Every release with a known genre, as the run's release rows (sorted by id).

    Attributes:
        ids: Release id of each row, ascending.
        catalog: Their genres, styles, artists, labels and years.
        content: The same as the rankers' content matrices.
        trending: Activity events per row over the trending window.
        titles: Title of each row (None when it has none).

    """

    ids: np.ndarray
    catalog: ReleaseCatalog
    content: ItemContent
    trending: np.ndarray
    titles: np.ndarray

    def features(self, owners: np.ndarray) -> ReleaseFeatures:
        """What the scoring rules know of each row, given the owners per row."""
        styles = self.catalog.styles
        counts = styles.counts()
        return ReleaseFeatures(
            self.content.genres.toarray().astype(np.float32),
            Styles(
                styles.ptr,
                styles.idx.astype(np.int64),
                (1.0 / np.repeat(counts, counts)).astype(np.float32),
                len(styles.names),
            ),
            owners,
            self.trending,
            self.content.credits,
        )


def read_releases(spark: SparkSession, settings: Settings, now: datetime) -> Releases:
    """Read every release's content, title and trending count over the trending window.

    Args:
        spark: Session.
        settings: Keyspace and trending window.
        now: End of the trending window.

    Returns:
        The releases with a known genre, sorted by id.

    """
    hours = [h.replace(tzinfo=None) for h in trending_hours(now, settings.scoring.trending_hours)]
    trending = (  # IN on the partition key is pushed down to Cassandra; a range would scan all
        read_table(spark, settings, RELEASE_TRENDING_BATCHES)
        .filter(F.col("hour").isin(hours))
        .groupBy("release_id")
        .agg(F.sum("events").alias("trending"))
    )
    rows = (
        read_table(spark, settings, RELEASES)
        .select(*CATALOG_COLUMNS, "title")
        .join(trending, "release_id", "left")
        .toPandas()
        .sort_values("release_id", ignore_index=True)
    )
    catalog = ReleaseCatalog.from_records(
        zip(*(rows[column] for column in CATALOG_COLUMNS), strict=True)
    )
    by_id = rows.set_index("release_id").reindex(catalog.release_ids)
    return Releases(
        catalog.release_ids,
        catalog,
        ItemContent.from_catalog(catalog),
        by_id["trending"].fillna(0).to_numpy(np.int64),
        by_id["title"].to_numpy(object),
    )


@dataclass(frozen=True)
class Owned:
    """Every collection as rows of the run: who owns what since when.

    Attributes:
        user_items: ``(users, releases)`` 1.0 per owned pair.
        added_at: Same sparsity: when it was added (seconds since the epoch).
        outside_release_ids: Ids of releases some collection read holds but the run's catalogue
            has not (their pairs are left out; a snapshot holding them is not trusted once the
            catalogue has one: :meth:`.snapshot.RunSnapshot.covers`), sorted.

    """

    user_items: sp.csr_matrix
    added_at: sp.csr_matrix
    outside_release_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def of_added_at(cls, added_at: sp.csr_matrix, outside_release_ids: np.ndarray) -> Owned:
        """The collections whose pairs ``added_at`` stores (sorted indices): 1.0 at each.

        ``user_items`` shares ``added_at``'s pattern arrays, so the pairs are laid out once.
        """
        ones = np.ones(added_at.nnz, dtype=np.float32)
        user_items = sp.csr_matrix((ones, added_at.indices, added_at.indptr), added_at.shape)
        return cls(user_items, added_at, outside_release_ids)

    def collections(self) -> Collections:
        """The same pairs as the scoring rules' :class:`Collections`."""
        return Collections.from_csr(self.user_items)

    def owners(self) -> np.ndarray:
        """Owners per release row."""
        return np.bincount(self.user_items.indices, minlength=self.user_items.shape[1])


def read_owned(
    spark: SparkSession,
    settings: Settings,
    user_ids: np.ndarray,
    release_ids: np.ndarray,
    rows: np.ndarray | None = None,
) -> Owned:
    """Read ``user_collection`` as rows of the run: all of it (one scan), or some users'.

    Pairs of users or releases outside the given ids (added after they were read, or a release
    not in the catalogue) are dropped and logged; the ids of such releases are kept in
    :attr:`Owned.outside_release_ids`.

    Args:
        spark: Session.
        settings: Keyspace.
        user_ids: The run's user ids (sorted).
        release_ids: The run's release ids (sorted).
        rows: Read only these user rows (:func:`read_of_users`); the other rows stay empty, and
            the other users' pairs are neither logged nor in :attr:`Owned.outside_release_ids`.

    """
    shape = (len(user_ids), len(release_ids))
    if rows is not None and len(rows) == 0:
        return Owned.of_added_at(sp.csr_matrix(shape, dtype=np.float64), np.zeros(0, np.int64))
    table = read_of_users(spark, settings, USER_COLLECTION, user_ids, rows)
    pairs = table.select(
        "user_id", "release_id", F.unix_micros("added_at").alias("added_us")
    ).toPandas()
    pairs, user_rows, known_user = asked_pairs(pairs, user_ids, rows)
    release_rows, known_release = id_rows(release_ids, pairs["release_id"].to_numpy(np.int64))
    known = known_user & known_release
    added = pairs["added_us"].to_numpy(np.float64, na_value=0.0)
    added /= 1e6
    if not known.all():
        log.warning("collection_pairs_dropped", pairs=int((~known).sum()))
        user_rows, release_rows, added = user_rows[known], release_rows[known], added[known]
    added_at = sp.csr_matrix((added, (user_rows, release_rows)), shape)
    added_at.sort_indices()
    outside = np.unique(pairs["release_id"].to_numpy(np.int64)[~known_release])
    return Owned.of_added_at(added_at, outside)


def read_activity(
    spark: SparkSession,
    settings: Settings,
    user_ids: np.ndarray,
    release_ids: np.ndarray,
    rows: np.ndarray,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Views, plays and wants of the given user rows (``user_activity`` keeps 30 days).

    Read by :func:`read_of_users`: a direct join when the users are :func:`few`, else the
    whole table, the other users' pairs dropped.

    Returns:
        ``(users, releases)`` event counts, non-zero only in the given rows, and the time of
        each pair's first event in seconds (same sparsity).

    """
    shape = (len(user_ids), len(release_ids))
    if len(rows) == 0:
        return sp.csr_matrix(shape, dtype=np.float32), sp.csr_matrix(shape, dtype=np.float64)
    activity = read_of_users(spark, settings, USER_ACTIVITY, user_ids, rows)
    pairs = (
        activity.groupBy("user_id", "release_id")
        .agg(
            F.count("*").alias("events"),
            F.min(F.unix_micros("event_time")).alias("first_us"),
        )
        .toPandas()
    )
    pairs, user_rows, known_user = asked_pairs(pairs, user_ids, rows)
    release_rows, known_release = id_rows(release_ids, pairs["release_id"].to_numpy(np.int64))
    known = known_user & known_release
    where = (user_rows[known], release_rows[known])
    counts = pairs["events"].to_numpy(np.float32)[known]
    first = pairs["first_us"].fillna(0).to_numpy(np.float64)[known] / 1e6
    return sp.csr_matrix((counts, where), shape), sp.csr_matrix((first, where), shape)


class ActivityReads:
    """:func:`read_activity` of a run, read once for the same rows.

    The taste step and the hybrid's lists ask for the same rows (the listed users are those
    whose taste is recomputed, unless content leaves activity out), so the second asks nothing
    of Cassandra.
    """

    def __init__(
        self, spark: SparkSession, settings: Settings, user_ids: np.ndarray, release_ids: np.ndarray
    ) -> None:
        self._read = partial(read_activity, spark, settings, user_ids, release_ids)
        self._last: tuple[np.ndarray, tuple[sp.csr_matrix, sp.csr_matrix]] | None = None

    def __call__(self, rows: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """:func:`read_activity` of ``rows``, from the last read when it was of the same rows."""
        if self._last is None or not np.array_equal(self._last[0], rows):
            self._last = (np.array(rows), self._read(rows))
        return self._last[1]
