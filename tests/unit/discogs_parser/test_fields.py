"""Scalar fields of a Discogs record: lenient years, strict ids and flags."""

import pytest

from discogs_parser.fields import BadField, parse_bool, parse_id, parse_year


@pytest.mark.parametrize(
    ("raw", "year"),
    [
        ("1999", 1999),
        ("1999-00-00", 1999),
        ("1999-03-00", 1999),
        ("1999-03-15", 1999),
        (" 1999 ", 1999),
        ("0000", None),
        ("", None),
        (None, None),
        ("?", None),
        ("199", None),
        ("1999-03-15T00:00", None),
        ("c. 1999", None),
    ],
)
def test_parse_year(raw: str | None, year: int | None) -> None:
    assert parse_year(raw) == year


def test_ids_must_be_ascii_digits_within_bigint() -> None:
    assert parse_id(" 42 ", "id") == 42
    assert parse_id("0", "id") is None
    for text in ("²", "4²", str(2**63), "-1", "1e3"):
        with pytest.raises(BadField):
            parse_id(text, "id")


def test_flags_are_true_false_or_absent() -> None:
    assert parse_bool(" True ", "flag") is True
    assert parse_bool("false", "flag") is False
    assert parse_bool("", "flag") is None
    assert parse_bool(None, "flag") is None
    with pytest.raises(BadField, match="flag is not a boolean"):
        parse_bool("yes", "flag")
