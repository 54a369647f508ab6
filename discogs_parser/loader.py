"""Write releases into Cassandra's ``releases`` table: prepared upserts, bounded concurrency.

Every release is one prepared ``INSERT`` of one partition, which Cassandra applies atomically, so
a row is written whole or not at all, and loading the same file again rewrites the same values.

For throughput the inserts travel in small UNLOGGED batches (``batch_rows`` rows, at most
``batch_bytes`` of values): one request per batch instead of one per row cuts the driver's
per-request CPU, which is the ceiling of single-row inserts on a small box (measured here:
~3K rows/s single-row vs ~13K rows/s with 25-row batches). An unlogged batch gives no
atomicity across its rows, and none is needed: each row is still applied whole, and a failed
batch is simply sent again (upserts are idempotent). The byte cap keeps batches well under
Cassandra's ``batch_size_fail_threshold`` (50 KiB by default).

Loading runs in the parser processes (:class:`LoaderSink`), each with its own driver session,
so parsing, the driver's encoding and Cassandra share every core.

Resume: before a chunk is written, the ids of the chunk are looked up with
``SELECT release_id ... WHERE release_id IN ?`` (partition-key reads, answered from the bloom
filters when absent) and the ones already present are dropped. Unlike "max loaded id", this
needs no assumption that the dump is sorted or that the previous run wrote in order (concurrent
writes finish out of order), and it costs no full-table scan.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from cassandra import DriverException, RequestExecutionException
from cassandra.cluster import Cluster, NoHostAvailable, ResponseFuture, Session
from cassandra.query import BatchStatement, BatchType

from discogs_parser.model import Release
from discorecs.core.cassandra import ReleaseIdLookup, connect
from discorecs.core.logs import get_logger
from discorecs.core.settings import LoaderSettings, Settings
from discorecs.core.tables import RELEASES

log = get_logger("discogs_parser.loader")

_FIXED_WIDTH = 8


class LoadError(Exception):
    """Rows that still failed after the retries (or Cassandra could not be reached).

    Attributes:
        written: Rows the failing loader had written before.

    """

    written: int = 0


def release_row(release: Release) -> tuple:
    """Return the values of one release in the column order of :data:`RELEASES`."""
    return (
        release.release_id,
        release.status,
        release.title,
        release.artist_names,
        release.artist_credit,
        release.label_names,
        release.catnos,
        release.format_lines,
        set(release.genres),
        set(release.styles),
        release.country,
        release.released,
        release.year,
        release.master_id,
        release.is_main_release,
        release.data_quality,
        release.track_count,
    )


def row_bytes(row: tuple) -> int:
    """Estimate the size of a row's values (text lengths, 8 per number or flag)."""
    size = 0
    for value in row:
        if isinstance(value, str):
            size += len(value)
        elif isinstance(value, list | set):
            size += sum(len(item) for item in value) + _FIXED_WIDTH
        else:
            size += _FIXED_WIDTH
    return size


@dataclass
class LoadStats:
    """Rows written and rows left out because a previous run had written them."""

    written: int = 0
    already_loaded: int = 0


class ReleaseLoader:
    """Upsert releases chunk by chunk, with a bounded window of requests in flight.

    Args:
        session: An open driver session.
        keyspace: Keyspace holding the ``releases`` table.
        tuning: Requests in flight, rows and bytes per UNLOGGED batch (1 row: single-row
            inserts), retries of a failed batch.
        resume: Skip the releases whose id is already in the table.

    """

    def __init__(
        self,
        session: Session,
        keyspace: str,
        tuning: LoaderSettings,
        *,
        resume: bool = False,
    ) -> None:
        self.session = session
        self.keyspace = keyspace
        self.tuning = tuning
        self.resume = resume
        self.stats = LoadStats()
        self._inflight: deque[tuple[ResponseFuture, list[tuple], int]] = deque()
        self._insert = session.prepare(RELEASES.insert(keyspace))
        self._release_ids = ReleaseIdLookup(session, keyspace, tuning.concurrency)

    def existing_ids(self, ids: Sequence[int]) -> set[int]:
        """Return the ids among ``ids`` that already have a row.

        Args:
            ids: Release ids to look up.

        Returns:
            The subset present in the table.

        """
        try:
            return self._release_ids.existing(ids)
        except (DriverException, NoHostAvailable) as error:
            raise LoadError(f"resume lookup failed: {error}".splitlines()[0]) from None

    def write(self, releases: Sequence[Release]) -> None:
        """Send one chunk of releases, in batches, without waiting for the last answers.

        At most ``concurrency`` requests are in flight: sending waits for the oldest answer
        first, so parsing the next chunk overlaps with Cassandra applying this one. Call
        :meth:`flush` to wait for the rest.

        Args:
            releases: Complete releases.

        Raises:
            LoadError: A batch still failed after the retries.

        """
        if self.resume and releases:
            present = self.existing_ids([release.release_id for release in releases])
            if present:
                self.stats.already_loaded += len(present)
                releases = [r for r in releases if r.release_id not in present]
        for group in self._groups([release_row(release) for release in releases]):
            self._send(group, attempt=0)

    def flush(self) -> None:
        """Wait until every request sent so far has been answered (and retried if it failed).

        Raises:
            LoadError: A batch still failed after the retries.

        """
        while self._inflight:
            self._settle_oldest()

    def _send(self, group: list[tuple], attempt: int) -> None:
        while len(self._inflight) >= self.tuning.concurrency:
            self._settle_oldest()
        statement, params = self._statement(group)
        self._inflight.append((self.session.execute_async(statement, params), group, attempt))

    def _settle_oldest(self) -> None:
        future, group, attempt = self._inflight.popleft()
        try:
            future.result()
        except (RequestExecutionException, DriverException, NoHostAvailable) as exc:
            if attempt >= self.tuning.retries:
                raise LoadError(
                    f"{len(group)} rows failed after {self.tuning.retries} retries: {exc}"
                ) from None
            log.warning("write_retry", attempt=attempt + 1, rows=len(group), error=str(exc))
            self._send(group, attempt + 1)
            return
        self.stats.written += len(group)

    def _groups(self, rows: list[tuple]) -> list[list[tuple]]:
        groups: list[list[tuple]] = []
        group: list[tuple] = []
        size = 0
        for row in rows:
            weight = row_bytes(row)
            if group and (
                len(group) >= self.tuning.batch_rows or size + weight > self.tuning.batch_bytes
            ):
                groups.append(group)
                group, size = [], 0
            group.append(row)
            size += weight
        if group:
            groups.append(group)
        return groups

    def _statement(self, group: list[tuple]) -> tuple:
        if len(group) == 1:
            return (self._insert, group[0])
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        for row in group:
            batch.add(self._insert, row)
        return (batch, ())


def open_loader(settings: Settings, *, resume: bool = False) -> tuple[Cluster, ReleaseLoader]:
    """Connect to Cassandra and return a :class:`ReleaseLoader`; shut the cluster down when done.

    Args:
        settings: Where Cassandra listens, which keyspace to load into, the loader's tuning.
        resume: Skip the releases already in the table.

    Returns:
        The driver cluster and a loader on a session of it.

    Raises:
        LoadError: Cassandra is unreachable or the ``releases`` table is missing.

    """
    where = f"{settings.cassandra.host}:{settings.cassandra.port}"
    try:
        cluster, session = connect(settings)
    except (NoHostAvailable, DriverException, OSError) as exc:
        raise LoadError(f"cannot reach Cassandra at {where}: {exc}") from None
    try:
        return cluster, ReleaseLoader(session, settings.keyspace, settings.loader, resume=resume)
    except (RequestExecutionException, DriverException) as exc:
        cluster.shutdown()
        table = f"{settings.keyspace}.releases"
        raise LoadError(f"cannot prepare writes to {table}: {exc}") from None


class _LoaderPart:
    """A loader in one parser process: blocks wait here until committed, then are written."""

    def __init__(self, settings: Settings, resume: bool) -> None:
        self._cluster, self._loader = open_loader(settings, resume=resume)
        self._pending: deque[tuple[int, list[Release]]] = deque()

    def write(self, index: int, releases: list[Release]) -> None:
        """Keep the block's releases until the block is committed."""
        self._pending.append((index, releases))

    def commit(self, through: int) -> None:
        """Send the committed blocks' releases (without waiting for the last answers)."""
        pending = self._pending
        try:
            while pending and pending[0][0] <= through:
                self._loader.write(pending.popleft()[1])
        except LoadError as exc:
            exc.written = self._loader.stats.written
            raise

    def close(self) -> LoadStats:
        """Wait for every write, drop uncommitted blocks, shut the driver down."""
        self._pending.clear()
        try:
            self._loader.flush()
        except LoadError as exc:
            exc.written = self._loader.stats.written
            raise
        finally:
            self._cluster.shutdown()
        return self._loader.stats


class LoaderSink:
    """Load releases into Cassandra from the processes that parse them, one session each.

    Args:
        settings: Where Cassandra listens, which keyspace to load into, the loader's tuning.
        resume: Skip the releases already in the table.

    Attributes:
        stats: Rows written and rows skipped as already loaded, over every part (set when the
            run ends).

    """

    def __init__(self, settings: Settings, *, resume: bool = False) -> None:
        self.settings = settings
        self.resume = resume
        self.stats = LoadStats()

    def open(self) -> _LoaderPart:
        """Connect and prepare the insert (in a parser process).

        Raises:
            LoadError: Cassandra is unreachable or the ``releases`` table is missing.

        """
        return _LoaderPart(self.settings, self.resume)

    def accept(self, receipt: None) -> None:
        """Nothing comes back: the parts write."""

    def finish(self, closings: list[LoadStats]) -> None:
        """Add up the parts' figures."""
        for stats in closings:
            self.stats.written += stats.written
            self.stats.already_loaded += stats.already_loaded
