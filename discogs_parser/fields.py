"""Parse the scalar fields of a Discogs record; strict where a bad value spoils the record."""

from __future__ import annotations

import re

from discorecs.core.tables import MAX_BIGINT

_YEAR = re.compile(r"^\s*(\d{4})(?:-\d{1,2}(?:-\d{1,2})?)?\s*$")


class BadField(ValueError):
    """A field whose value makes the whole record unusable."""


def parse_year(released: str | None) -> int | None:
    """Return the year of a ``<released>`` value.

    Accepts ``1999``, ``1999-00-00``, ``1999-03-00`` and ``1999-03-15``; anything else (absent,
    empty, ``?``, ``0000``) gives None rather than failing the record.

    Args:
        released: Raw ``<released>`` text.

    Returns:
        The year, or None.

    """
    if not released:
        return None
    match = _YEAR.match(released)
    if match is None:
        return None
    year = int(match.group(1))
    return year or None


def parse_id(text: str | None, field: str) -> int | None:
    """Parse an optional positive integer id; empty or ``0`` means "not linked".

    Args:
        text: Raw text, may be None.
        field: Field name for the error message.

    Returns:
        The id, or None when absent, empty or zero.

    Raises:
        BadField: The text is not an ASCII integer, or it does not fit a Cassandra bigint.

    """
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise BadField(f"{field} is not numeric: {text[:40]!r}")
    value = int(text)
    if value > MAX_BIGINT:
        raise BadField(f"{field} is out of range: {text[:40]!r}")
    return value or None


def parse_bool(text: str | None, field: str) -> bool | None:
    """Parse an optional ``true``/``false`` attribute.

    Args:
        text: Raw text, may be None.
        field: Field name for the error message.

    Returns:
        The boolean, or None when absent or empty.

    Raises:
        BadField: Any other value.

    """
    if not text:
        return None
    lowered = text.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise BadField(f"{field} is not a boolean: {text[:40]!r}")
