"""The words a collector is found by, for the stream that stores them and the API that searches.

Cassandra 5.0's storage-attached indexes match a text column whole (no analyzer, no ``LIKE``), so
each profile is stored with the distinct words of its name and username (``users.name_words``,
indexed by value) and a search asks for every word of its text.
"""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"[^\W_]+")
"""A run of letters and digits: "Jean-Luc O'Brien" holds jean, luc, o and brien."""


def name_words(*texts: str | None) -> frozenset[str]:
    """The distinct words of the texts, Unicode-normalised (NFKC) and case-folded.

    Args:
        *texts: Names, usernames or a search's text; ``None`` holds no word.

    Returns:
        The words, empty when no text has a letter or digit.

    """
    return frozenset(
        word
        for text in texts
        if text
        for word in WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    )
