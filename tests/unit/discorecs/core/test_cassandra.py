"""The DDL statements of schema/*.cql, read through the package, for any keyspace."""

from discorecs.core.cassandra import SCHEMA, schema_statements
from tests.support import REPO_ROOT


def test_schema_statements_use_the_given_keyspace() -> None:
    statements = schema_statements("ks_test")
    assert statements[0].startswith("CREATE KEYSPACE IF NOT EXISTS ks_test")
    assert all("{keyspace}" not in s for s in statements)
    assert all("IF NOT EXISTS" in s for s in statements)
    assert any("vector<float, 15>" in s for s in statements)
    assert not any(line.lstrip().startswith("--") for s in statements for line in s.splitlines())


def test_the_packaged_schema_is_the_checkout_schema() -> None:
    packaged = {entry.name: entry.read_text() for entry in SCHEMA.iterdir()}
    checkout = {path.name: path.read_text() for path in (REPO_ROOT / "schema").glob("*.cql")}
    assert packaged == checkout


def test_one_statement_per_create() -> None:
    statements = schema_statements("ks")
    text = "".join(path.read_text() for path in sorted((REPO_ROOT / "schema").glob("*.cql")))
    creates = sum(line.lstrip().startswith("CREATE ") for line in text.splitlines())
    assert len(statements) == creates
    assert all(s.startswith("CREATE ") for s in statements)
