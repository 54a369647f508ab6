"""Every Cassandra table's columns and key, declared once; CQL and Spark schemas derive from here.

``schema/*.cql`` holds the DDL people read (with comments, TTLs, clustering orders and the vector
index); ``tests/unit/discorecs/core/test_tables.py`` parses it and fails when it and these
declarations disagree. Every statement the project prepares, every Spark schema string handed to
``createDataFrame`` and every writer's column list comes from a :class:`Table` below.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_BIGINT = 2**63 - 1
"""The largest CQL ``bigint``: every id (user, release) is a positive bigint."""

_VECTOR = re.compile(r"vector<\s*float\s*,\s*\d+\s*>")
_SCALARS = {
    "bigint": "long",
    "int": "int",
    "float": "float",
    "double": "double",
    "boolean": "boolean",
    "text": "string",
    "timestamp": "timestamp",
    "uuid": "string",
    "timeuuid": "string",
}


@dataclass(frozen=True)
class UserType:
    """A user-defined type: its name and ``(field, cql type)`` pairs."""

    name: str
    fields: tuple[tuple[str, str], ...]


RECOMMENDATION = UserType(
    "recommendation", (("release_id", "bigint"), ("title", "text"), ("score", "float"))
)
USER_TYPES = {t.name: t for t in (RECOMMENDATION,)}


def spark_type(cql: str) -> str:
    """The Spark SQL DDL type of a CQL type (collections and vectors become arrays).

    Raises:
        ValueError: A type this project does not use.

    """
    cql = cql.strip()
    if cql in _SCALARS:
        return _SCALARS[cql]
    if _VECTOR.fullmatch(cql):
        return "array<float>"
    outer, _, inner = cql.partition("<")
    inner = inner.removesuffix(">")
    if outer in ("list", "set"):
        return f"array<{spark_type(inner)}>"
    if outer == "map":
        key, value = (part.strip() for part in inner.split(",", 1))
        return f"map<{spark_type(key)},{spark_type(value)}>"
    if outer == "frozen" and inner in USER_TYPES:
        fields = ",".join(f"{n}:{spark_type(t)}" for n, t in USER_TYPES[inner].fields)
        return f"struct<{fields}>"
    if outer == "frozen":
        return spark_type(inner)
    raise ValueError(f"no Spark type for CQL type {cql!r}")


@dataclass(frozen=True)
class Table:
    """One table: columns in declaration order, partition key, clustering columns."""

    name: str
    columns: tuple[tuple[str, str], ...]
    partition_key: tuple[str, ...]
    clustering: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        """Every column, in declaration order."""
        return tuple(name for name, _ in self.columns)

    @property
    def primary_key(self) -> tuple[str, ...]:
        """Partition key then clustering columns."""
        return self.partition_key + self.clustering

    @property
    def value_columns(self) -> tuple[str, ...]:
        """The columns outside the primary key."""
        return tuple(c for c in self.column_names if c not in self.primary_key)

    def _checked(self, columns: Sequence[str] | None) -> tuple[str, ...]:
        chosen = tuple(columns) if columns is not None else self.column_names
        unknown = [c for c in chosen if c not in self.column_names]
        if unknown:
            raise ValueError(f"{self.name} has no column {', '.join(unknown)}")
        return chosen

    def _where(self, conditions: Sequence[str]) -> str:
        parts = []
        for condition in conditions:
            column, _, operator = condition.partition(" ")
            self._checked([column])
            parts.append(f"{column} {operator or '='} ?")
        return f" WHERE {' AND '.join(parts)}" if parts else ""

    def insert(
        self, keyspace: str, columns: Sequence[str] | None = None, *, timestamp: bool = False
    ) -> str:
        """``INSERT INTO ks.t (...) VALUES (?, ...)``, optionally ``USING TIMESTAMP ?`` last."""
        chosen = self._checked(columns)
        missing = [c for c in self.primary_key if c not in chosen]
        if missing:
            raise ValueError(f"an insert into {self.name} needs {', '.join(missing)}")
        marks = ", ".join("?" for _ in chosen)
        using = " USING TIMESTAMP ?" if timestamp else ""
        return f"INSERT INTO {keyspace}.{self.name} ({', '.join(chosen)}) VALUES ({marks}){using}"

    def select(
        self,
        keyspace: str,
        columns: Sequence[str] | None = None,
        *,
        where: Sequence[str] = (),
        limit: int | None = None,
    ) -> str:
        """``SELECT ... FROM ks.t``; ``where`` holds ``"col"`` (``= ?``) or ``"col IN"`` items."""
        chosen = self._checked(columns)
        cql = f"SELECT {', '.join(chosen)} FROM {keyspace}.{self.name}{self._where(where)}"
        return cql + (f" LIMIT {int(limit)}" if limit is not None else "")

    def ann(self, keyspace: str, vector: str, columns: Sequence[str] | None = None) -> str:
        """``SELECT ... FROM ks.t ORDER BY vector ANN OF ? LIMIT ?``: nearest rows by a vector.

        Needs the storage-attached vector index on ``vector`` (``schema/03_indexes.cql``).
        """
        self._checked([vector])
        chosen = self._checked(columns)
        return (
            f"SELECT {', '.join(chosen)} FROM {keyspace}.{self.name} "
            f"ORDER BY {vector} ANN OF ? LIMIT ?"
        )

    def delete(self, keyspace: str, where: Sequence[str], *, timestamp: bool = False) -> str:
        """``DELETE FROM ks.t [USING TIMESTAMP ?] WHERE ...`` (the timestamp is bound first)."""
        using = " USING TIMESTAMP ?" if timestamp else ""
        return f"DELETE FROM {keyspace}.{self.name}{using}{self._where(where)}"

    def spark_schema(self, columns: Sequence[str] | None = None) -> str:
        """Spark DDL schema string of the chosen columns (all by default)."""
        types = dict(self.columns)
        return ", ".join(f"{c} {spark_type(types[c])}" for c in self._checked(columns))


RELEASES = Table(
    "releases",
    (
        ("release_id", "bigint"),
        ("status", "text"),
        ("title", "text"),
        ("artists", "list<text>"),
        ("artist_credit", "text"),
        ("labels", "list<text>"),
        ("catnos", "frozen<list<text>>"),
        ("formats", "frozen<list<text>>"),
        ("genres", "frozen<set<text>>"),
        ("styles", "frozen<set<text>>"),
        ("country", "text"),
        ("released", "text"),
        ("year", "int"),
        ("master_id", "bigint"),
        ("is_main_release", "boolean"),
        ("data_quality", "text"),
        ("track_count", "int"),
    ),
    ("release_id",),
)
USERS = Table(
    "users",
    (
        ("user_id", "bigint"),
        ("name", "text"),
        ("username", "text"),
        ("email", "text"),
        ("location", "text"),
        ("joined_at", "timestamp"),
        ("name_words", "set<text>"),
    ),
    ("user_id",),
)
PROFILE_COLUMNS = USERS.value_columns[:-1]
"""The columns of ``users`` a profile event carries; ``name_words`` is made from them
(:func:`~discorecs.core.names.name_words` of the name and username) when the row is written."""
USER_COLLECTION = Table(
    "user_collection",
    (("user_id", "bigint"), ("release_id", "bigint"), ("added_at", "timestamp")),
    ("user_id",),
    ("release_id",),
)
USER_ACTIVITY = Table(
    "user_activity",
    (
        ("user_id", "bigint"),
        ("event_time", "timestamp"),
        ("event_id", "uuid"),
        ("kind", "text"),
        ("release_id", "bigint"),
    ),
    ("user_id",),
    ("event_time", "event_id"),
)
RELEASE_TRENDING_BATCHES = Table(
    "release_trending_batches",
    (("hour", "timestamp"), ("release_id", "bigint"), ("batch_id", "bigint"), ("events", "int")),
    ("hour",),
    ("batch_id", "release_id"),
)


def trending_hours(now: datetime, hours: int) -> list[datetime]:
    """The ``hours`` hour buckets up to ``now``'s: the partitions of the trending window."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=i) for i in range(hours)]


CHANGED_USERS = Table(
    "changed_users", (("bucket", "timestamp"), ("user_id", "bigint")), ("bucket",), ("user_id",)
)
RELEASE_SCORES = Table(
    "release_scores",
    (
        ("release_id", "bigint"),
        ("genre_weights", "vector<float, 15>"),
        ("style_weights", "frozen<map<text, float>>"),
        ("scored_at", "timestamp"),
    ),
    ("release_id",),
)
USERS_SCORED = Table(
    "users_scored",
    (
        ("user_id", "bigint"),
        ("taste", "vector<float, 15>"),
        ("top_genre", "text"),
        ("genre_ranks", "frozen<map<text, int>>"),
        ("friend_id", "bigint"),
        ("friend_similarity", "float"),
        ("release_id", "bigint"),
        ("release_title", "text"),
        ("recommendations", "frozen<list<frozen<recommendation>>>"),
        ("collection_size", "int"),
        ("scored_at", "timestamp"),
    ),
    ("user_id",),
)
HOURLY_PIPELINE = "hourly"
"""The ``pipeline`` key of the hourly job's rows in the run tables."""
STREAM_PIPELINE = "stream"
"""The ``pipeline`` key of the stream's rows in the run tables."""

BATCH_RUNS = Table(
    "batch_runs",
    (
        ("pipeline", "text"),
        ("run_id", "timeuuid"),
        ("step", "text"),
        ("status", "text"),
        ("rows", "bigint"),
        ("seconds", "double"),
        ("message", "text"),
    ),
    ("pipeline",),
    ("run_id", "step"),
)

QUALITY_RUNS = Table(
    "quality_runs",
    (("pipeline", "text"), ("run_id", "timeuuid"), ("metric", "text"), ("value", "double")),
    ("pipeline",),
    ("run_id", "metric"),
)

RANKING_MODELS = Table(
    "ranking_models",
    (("pipeline", "text"), ("trained_at", "timestamp"), ("model", "text")),
    ("pipeline",),
    ("trained_at",),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        RELEASES,
        USERS,
        USER_COLLECTION,
        USER_ACTIVITY,
        RELEASE_TRENDING_BATCHES,
        CHANGED_USERS,
        RELEASE_SCORES,
        USERS_SCORED,
        BATCH_RUNS,
        QUALITY_RUNS,
        RANKING_MODELS,
    )
}
