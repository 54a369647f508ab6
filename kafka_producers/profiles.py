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

    def __init__(self, seed: int, n_users: int, *, pool_size: int = 500, locale: str = "en_US"):
        """Fill the pools and draw every user's combination up front.

        Args:
            seed: Seed of Faker and of the pool combinations.
            n_users: Number of users (rows) to profile.
            pool_size: Entries per pool.
            locale: Faker locale.

        """
        fake = Faker(locale)
        fake.seed_instance(seed)
        self._first = [fake.first_name() for _ in range(pool_size)]
        self._last = [fake.last_name() for _ in range(pool_size)]
        self._places = [f"{fake.city()}, {fake.country()}" for _ in range(pool_size)]
        self._domains = sorted({fake.free_email_domain() for _ in range(pool_size // 10 + 1)})
        rng = np.random.default_rng([seed, 1])
        self._picks = rng.integers(0, pool_size, size=(n_users, 3))
        self._domain_picks = rng.integers(0, len(self._domains), size=n_users)
        span = int((_JOINED_TO - _JOINED_FROM).astype(np.int64))
        self._joined = _JOINED_FROM + rng.integers(0, span, size=n_users).astype("timedelta64[ms]")

    def make(self, rows: range, user_ids: list[int]) -> list[Profile]:
        """Return the profiles of user rows ``rows`` (the same for a seed, however batched).

        Args:
            rows: Consecutive user rows.
            user_ids: Id of each of those rows.

        Returns:
            The profiles, in row order.

        """
        joined_text = np.datetime_as_string(
            self._joined[rows.start : rows.stop], unit="ms", timezone="UTC"
        ).tolist()
        profiles = []
        for i, (row, user_id) in enumerate(zip(rows, user_ids, strict=True)):
            first_pick, last_pick, place_pick = self._picks[row]
            first, last = self._first[first_pick], self._last[last_pick]
            username = _NOT_ALNUM.sub("", f"{first}{last}".lower()) + str(user_id)
            profiles.append(
                Profile(
                    name=f"{first} {last}",
                    username=username,
                    email=f"{username}@{self._domains[self._domain_picks[row]]}",
                    location=self._places[place_pick],
                    joined_at=joined_text[i],
                )
            )
        return profiles
