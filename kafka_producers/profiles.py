"""Faker user profiles, made cheaply: Faker fills small pools once, numpy combines them.

Faker costs tens of microseconds per call, so it is called a few thousand times per run (pools
of first names, last names, places and mail domains), and each user's profile is a seeded
combination of pool entries. Usernames and e-mails embed the user id, so they are unique.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from faker import Faker

_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_JOINED_FROM = np.datetime64("2008-01-01T00:00:00.000", "ms")
_JOINED_TO = np.datetime64("2026-01-01T00:00:00.000", "ms")


@dataclass(frozen=True)
class Profile:
    """One user's public profile (the fields of a ``users`` event)."""

    name: str
    username: str
    email: str
    location: str
    joined_at: str


class ProfileFactory:
    """Reproducible profiles for user ids, from Faker pools."""

    def __init__(self, seed: int, *, pool_size: int = 500, locale: str = "en_US"):
        """Fill the pools.

        Args:
            seed: Seed of Faker and of the pool combinations.
            pool_size: Entries per pool.
            locale: Faker locale.

        """
        fake = Faker(locale)
        fake.seed_instance(seed)
        self._first = [fake.first_name() for _ in range(pool_size)]
        self._last = [fake.last_name() for _ in range(pool_size)]
        self._places = [f"{fake.city()}, {fake.country()}" for _ in range(pool_size)]
        self._domains = sorted({fake.free_email_domain() for _ in range(pool_size // 10 + 1)})
        self._rng = np.random.default_rng([seed, 1])

    def make(self, user_ids: list[int]) -> list[Profile]:
        """Return one profile per user id, in order (deterministic for a seed and call order).

        Args:
            user_ids: The ids to profile.

        Returns:
            The profiles.

        """
        n = len(user_ids)
        picks = self._rng.integers(0, len(self._first), size=(n, 3))
        domains = self._rng.integers(0, len(self._domains), size=n)
        span = int((_JOINED_TO - _JOINED_FROM).astype(np.int64))
        joined = _JOINED_FROM + self._rng.integers(0, span, size=n).astype("timedelta64[ms]")
        joined_text = np.datetime_as_string(joined, unit="ms", timezone="UTC").tolist()
        profiles = []
        for i, user_id in enumerate(user_ids):
            first, last = self._first[picks[i, 0]], self._last[picks[i, 1]]
            username = _NOT_ALNUM.sub("", f"{first}{last}".lower()) + str(user_id)
            profiles.append(
                Profile(
                    name=f"{first} {last}",
                    username=username,
                    email=f"{username}@{self._domains[domains[i]]}",
                    location=self._places[picks[i, 2]],
                    joined_at=joined_text[i],
                )
            )
        return profiles
