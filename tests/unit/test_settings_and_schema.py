import pytest
from pydantic import ValidationError

from discorecs.cassandra import schema_statements
from discorecs.genres import GENRES
from discorecs.settings import Settings


def test_settings_read_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORECS_KAFKA_PORT", "19092")
    monkeypatch.setenv("DISCORECS_TOPIC_PREFIX", "x.")
    settings = Settings()
    assert settings.kafka_bootstrap == "127.0.0.1:19092"
    assert settings.topic("collections") == "x.collections"


def test_settings_reject_typos_and_bad_keyspaces() -> None:
    with pytest.raises(ValidationError):
        Settings(kafka_prot=1)
    with pytest.raises(ValidationError):
        Settings(keyspace="drop table;")
    with pytest.raises(ValueError):
        Settings().topic("nope")


def test_schema_statements_use_the_given_keyspace() -> None:
    statements = schema_statements("ks_test")
    assert statements[0].startswith("CREATE KEYSPACE IF NOT EXISTS ks_test")
    assert all("{keyspace}" not in s for s in statements)
    assert all("IF NOT EXISTS" in s for s in statements)
    assert any("vector<float, 15>" in s for s in statements)


def test_fifteen_genres() -> None:
    assert len(GENRES) == len(set(GENRES)) == 15
