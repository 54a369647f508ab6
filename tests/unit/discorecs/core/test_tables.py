"""Table declarations agree with schema/*.cql; the CQL and Spark schemas; the trending hours."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta, timezone

import pytest

from discorecs.core.cassandra import schema_statements
from discorecs.core.events import Event, UserEvent
from discorecs.core.tables import (
    CHANGED_USERS,
    PROFILE_COLUMNS,
    RELEASE_TRENDING_BATCHES,
    RELEASES,
    TABLES,
    USER_COLLECTION,
    USER_TYPES,
    USERS,
    USERS_SCORED,
    spark_type,
    trending_hours,
)

KEYSPACE = "ks"


@dataclass(frozen=True)
class CqlTable:
    """A CREATE TABLE statement, parsed."""

    name: str
    columns: tuple[tuple[str, str], ...]
    partition_key: tuple[str, ...]
    clustering: tuple[str, ...]


def normalise(cql_type: str) -> str:
    """A CQL type without whitespace: ``vector<float, 15>`` and ``vector<float,15>`` agree."""
    return re.sub(r"\s+", "", cql_type)


def split_top_level(text: str) -> list[str]:
    """Split at commas outside parentheses and angle brackets."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "(<":
            depth += 1
        elif char in ")>":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def body(statement: str) -> str:
    """The text between the statement's first parenthesis and the one that closes it."""
    start = statement.index("(")
    depth = 0
    for end in range(start, len(statement)):
        depth += {"(": 1, ")": -1}.get(statement[end], 0)
        if depth == 0:
            return statement[start + 1 : end]
    raise AssertionError(f"unbalanced parentheses in {statement!r}")


def parse_table(statement: str) -> CqlTable:
    name = re.match(rf"CREATE TABLE IF NOT EXISTS {KEYSPACE}\.(\w+)\s*\(", statement)
    assert name, statement
    columns: list[tuple[str, str]] = []
    key: list[str] = []
    for item in split_top_level(body(statement)):
        if item.upper().startswith("PRIMARY KEY"):
            key = split_top_level(body(item))
            continue
        column, cql_type = item.split(None, 1)
        if re.search(r"\s+PRIMARY KEY$", cql_type, re.I):
            cql_type = re.sub(r"\s+PRIMARY KEY$", "", cql_type, flags=re.I)
            key = [column]
        columns.append((column, normalise(cql_type)))
    assert key, f"{name.group(1)} has no primary key"
    if key[0].startswith("("):
        partition = tuple(split_top_level(key[0].strip("()")))
    else:
        partition = (key[0],)
    return CqlTable(name.group(1), tuple(columns), partition, tuple(key[1:]))


def parse_type(statement: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    name = re.match(rf"CREATE TYPE IF NOT EXISTS {KEYSPACE}\.(\w+)\s*\(", statement)
    assert name, statement
    fields = tuple(
        (field, normalise(cql_type))
        for field, cql_type in (item.split(None, 1) for item in split_top_level(body(statement)))
    )
    return name.group(1), fields


STATEMENTS = schema_statements(KEYSPACE)
CQL_TABLES = {
    t.name: t for t in (parse_table(s) for s in STATEMENTS if s.startswith("CREATE TABLE"))
}
CQL_TYPES = dict(parse_type(s) for s in STATEMENTS if s.startswith("CREATE TYPE"))


def test_the_parser_reads_composite_and_inline_keys() -> None:
    composite = parse_table(
        f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.t (\n  a bigint,\n  b text,\n  c map<text, int>,\n"
        "  d int,\n  PRIMARY KEY ((a, b), c, d)\n) WITH CLUSTERING ORDER BY (c DESC)"
    )
    assert composite == CqlTable(
        "t",
        (("a", "bigint"), ("b", "text"), ("c", "map<text,int>"), ("d", "int")),
        ("a", "b"),
        ("c", "d"),
    )
    inline = parse_table(
        f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.u (\n"
        "  a bigint PRIMARY KEY,\n  v vector<float, 15>\n)"
    )
    assert inline == CqlTable("u", (("a", "bigint"), ("v", "vector<float,15>")), ("a",), ())


def test_every_cql_table_is_declared_and_every_declaration_is_in_the_cql() -> None:
    assert set(CQL_TABLES) == set(TABLES)
    assert set(CQL_TYPES) == set(USER_TYPES)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_declared_table_matches_the_cql(name: str) -> None:
    declared, cql = TABLES[name], CQL_TABLES[name]
    assert declared.name == name
    assert [(c, normalise(t)) for c, t in declared.columns] == list(cql.columns)
    assert declared.partition_key == cql.partition_key
    assert declared.clustering == cql.clustering


@pytest.mark.parametrize("name", sorted(USER_TYPES))
def test_declared_type_matches_the_cql(name: str) -> None:
    declared = USER_TYPES[name]
    assert declared.name == name
    assert tuple((f, normalise(t)) for f, t in declared.fields) == CQL_TYPES[name]


def test_every_declared_column_has_a_spark_type() -> None:
    for table in TABLES.values():
        fields = split_top_level(table.spark_schema())
        assert [f.split(" ", 1)[0] for f in fields] == list(table.column_names)


def test_keys_and_value_columns() -> None:
    assert USER_COLLECTION.primary_key == ("user_id", "release_id")
    assert USER_COLLECTION.value_columns == ("added_at",)
    assert RELEASE_TRENDING_BATCHES.primary_key == ("hour", "batch_id", "release_id")
    assert CHANGED_USERS.column_names == ("bucket", "user_id")
    assert CHANGED_USERS.value_columns == ()


def test_insert_statements() -> None:
    assert USER_COLLECTION.insert(KEYSPACE, timestamp=True) == (
        "INSERT INTO ks.user_collection (user_id, release_id, added_at) VALUES (?, ?, ?)"
        " USING TIMESTAMP ?"
    )
    assert CHANGED_USERS.insert(KEYSPACE) == (
        "INSERT INTO ks.changed_users (bucket, user_id) VALUES (?, ?)"
    )
    assert USERS.insert(KEYSPACE, ["user_id", "name"]) == (
        "INSERT INTO ks.users (user_id, name) VALUES (?, ?)"
    )


def test_an_insert_needs_the_whole_primary_key() -> None:
    with pytest.raises(ValueError, match="needs release_id"):
        USER_COLLECTION.insert(KEYSPACE, ["user_id", "added_at"])


def test_select_statements() -> None:
    assert CHANGED_USERS.select(KEYSPACE) == "SELECT bucket, user_id FROM ks.changed_users"
    assert RELEASES.select(KEYSPACE, ["release_id"], where=["release_id IN"]) == (
        "SELECT release_id FROM ks.releases WHERE release_id IN ?"
    )
    assert USERS_SCORED.select(KEYSPACE, ["user_id", "taste"], where=["user_id"], limit=5) == (
        "SELECT user_id, taste FROM ks.users_scored WHERE user_id = ? LIMIT 5"
    )
    assert CHANGED_USERS.select(KEYSPACE, ["user_id"], where=["bucket", "user_id >"]) == (
        "SELECT user_id FROM ks.changed_users WHERE bucket = ? AND user_id > ?"
    )


def test_ann_statement() -> None:
    assert USERS_SCORED.ann(KEYSPACE, "taste", ["user_id", "taste"]) == (
        "SELECT user_id, taste FROM ks.users_scored ORDER BY taste ANN OF ? LIMIT ?"
    )
    with pytest.raises(ValueError, match="no column vibe"):
        USERS_SCORED.ann(KEYSPACE, "vibe")


def test_delete_statements() -> None:
    assert USER_COLLECTION.delete(KEYSPACE, ["user_id", "release_id"], timestamp=True) == (
        "DELETE FROM ks.user_collection USING TIMESTAMP ? WHERE user_id = ? AND release_id = ?"
    )
    assert CHANGED_USERS.delete(KEYSPACE, ["bucket"]) == (
        "DELETE FROM ks.changed_users WHERE bucket = ?"
    )


def test_spark_schemas() -> None:
    assert USER_COLLECTION.spark_schema() == "user_id long, release_id long, added_at timestamp"
    assert USERS_SCORED.spark_schema(["user_id", "taste", "genre_ranks", "recommendations"]) == (
        "user_id long, taste array<float>, genre_ranks map<string,int>,"
        " recommendations array<struct<release_id:long,title:string,score:float>>"
    )
    assert RELEASES.spark_schema(["genres", "artists", "is_main_release"]) == (
        "genres array<string>, artists array<string>, is_main_release boolean"
    )


@pytest.mark.parametrize(
    ("cql", "spark"),
    [
        ("bigint", "long"),
        ("int", "int"),
        ("double", "double"),
        ("uuid", "string"),
        ("timeuuid", "string"),
        (" text ", "string"),
        ("set<text>", "array<string>"),
        ("list<bigint>", "array<long>"),
        ("map<text, float>", "map<string,float>"),
        ("map<text,int>", "map<string,int>"),
        ("vector<float, 15>", "array<float>"),
        ("vector<float,15>", "array<float>"),
        ("frozen<recommendation>", "struct<release_id:long,title:string,score:float>"),
        ("frozen<map<text, int>>", "map<string,int>"),
        (
            "frozen<list<frozen<recommendation>>>",
            "array<struct<release_id:long,title:string,score:float>>",
        ),
    ],
)
def test_spark_type(cql: str, spark: str) -> None:
    assert spark_type(cql) == spark


@pytest.mark.parametrize("cql", ["duration", "frozen<nope>", "tuple<int, int>", "vector<int, 3>"])
def test_spark_type_rejects_types_the_project_does_not_use(cql: str) -> None:
    with pytest.raises(ValueError):
        spark_type(cql)


def test_unknown_columns_raise_value_error() -> None:
    with pytest.raises(ValueError, match="users has no column nope"):
        USERS.select(KEYSPACE, ["user_id", "nope"])
    with pytest.raises(ValueError):
        USERS.select(KEYSPACE, where=["nope"])
    with pytest.raises(ValueError):
        USERS.insert(KEYSPACE, ["user_id", "nope"])
    with pytest.raises(ValueError):
        USER_COLLECTION.delete(KEYSPACE, ["user_id", "nope"])
    with pytest.raises(ValueError):
        USERS.spark_schema(["nope"])


def test_the_window_is_the_last_n_hour_buckets_in_utc() -> None:
    now = datetime(2026, 3, 1, 14, 35, 10, tzinfo=timezone(timedelta(hours=2)))
    hours = trending_hours(now, 3)
    assert hours == [
        datetime(2026, 3, 1, 12, tzinfo=UTC),
        datetime(2026, 3, 1, 11, tzinfo=UTC),
        datetime(2026, 3, 1, 10, tzinfo=UTC),
    ]


def test_a_column_the_schema_adds_to_an_older_table_is_the_create_statement_s() -> None:
    alters = [s for s in STATEMENTS if s.startswith("ALTER TABLE")]
    for statement in alters:
        added = re.fullmatch(
            rf"ALTER TABLE {KEYSPACE}\.(\w+) ADD IF NOT EXISTS (\w+) (.+)", statement
        )
        assert added, statement
        table, column, cql_type = added.groups()
        assert (column, normalise(cql_type)) in CQL_TABLES[table].columns
    assert alters


def test_a_profile_event_carries_every_users_column_but_the_words_made_from_it() -> None:
    event_fields = {f.name for f in fields(UserEvent)} - {f.name for f in fields(Event)}
    assert set(PROFILE_COLUMNS) == event_fields
    assert set(USERS.value_columns) - set(PROFILE_COLUMNS) == {"name_words"}
