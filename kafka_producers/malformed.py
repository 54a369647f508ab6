"""Malformed events injected on purpose (``--bad-ratio``), for the dead-letter path downstream.

Each category matches the reason :mod:`discorecs.core.events` gives when it rejects one, so the
ground-truth file can be checked against the dead letters: ``bad_json``, ``missing_field``,
``wrong_type``, ``bad_value`` (among them a well-formed event time far ahead), ``oversize``
(bigger than ``MAX_EVENT_BYTES`` but far below Kafka's 1 MB message limit) and
``unknown_release`` (valid JSON, but a release id that is not in the catalogue).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from discorecs.core import events

CATEGORIES: tuple[str, ...] = (
    events.BAD_JSON,
    events.MISSING_FIELD,
    events.WRONG_TYPE,
    events.BAD_VALUE,
    events.UNKNOWN_RELEASE,
    events.OVERSIZE,
)
OVERSIZE_MAX_BYTES = 64 * 1024
FAR_AHEAD = "2199-12-31T23:59:59.999Z"
"""A well-formed event time far after its record's own timestamp: a bad value
(:func:`discorecs.core.events.check_ahead`)."""


class Malformer:
    """Decides which events to spoil and how, reproducibly."""

    def __init__(self, seed: int, ratio: float, max_release_id: int):
        """Set the ratio.

        Args:
            seed: Seed of which events are spoiled and of how (two independent streams, so the
                result does not depend on how the calls interleave).
            ratio: Share of collection/activity events to spoil, in ``[0, 1]``.
            max_release_id: Largest release id in the catalogue; unknown ids are above it.

        """
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"bad ratio {ratio} is not in [0, 1]")
        self.ratio = ratio
        self._draw_rng = np.random.default_rng([seed, 2])
        self._spoil_rng = np.random.default_rng([seed, 3])
        self._max_release_id = max_release_id

    def draw(self, n: int) -> np.ndarray:
        """Return, per event, the index of its category in :data:`CATEGORIES` or ``-1``."""
        if self.ratio == 0.0:
            return np.full(n, -1)
        spoil = self._draw_rng.random(n) < self.ratio
        categories = self._draw_rng.integers(0, len(CATEGORIES), size=n)
        return np.where(spoil, categories, -1)

    def spoil(self, category: int, kind: str, values: tuple[Any, ...]) -> bytes:
        """Build the malformed wire bytes of one event.

        Args:
            category: Index into :data:`CATEGORIES`.
            kind: Event kind the message goes to.
            values: The good event's values in wire order (strings as ``str``).

        Returns:
            The message value.

        """
        obj = dict(zip(events.field_names(kind), values, strict=True))
        name = CATEGORIES[category]
        names = list(obj)
        pick = int(self._spoil_rng.integers(0, 1 << 30))
        if name == events.BAD_JSON:
            text = json.dumps(obj, separators=(",", ":"))
            return text[: 1 + pick % (len(text) - 2)].encode()
        if name == events.MISSING_FIELD:
            del obj[names[pick % len(names)]]
        elif name == events.WRONG_TYPE:
            field = names[pick % len(names)]
            obj[field] = str(obj[field]) if isinstance(obj[field], int) else 12345
        elif name == events.BAD_VALUE:
            choice = ("schema_version", "event_id", "event_time", "user_id", names[-1])[pick % 5]
            obj[choice] = {
                "schema_version": 99,
                "event_id": "not-a-uuid",
                "user_id": -1,
                "event_time": ("yesterday", FAR_AHEAD)[pick // 5 % 2],
            }.get(choice, "steal")
        elif name == events.UNKNOWN_RELEASE:
            obj["release_id"] = self._max_release_id + 1 + pick % 1_000_000
        else:
            size = events.MAX_EVENT_BYTES + 1 + pick % (OVERSIZE_MAX_BYTES - events.MAX_EVENT_BYTES)
            obj["padding"] = "x" * size
        return json.dumps(obj, separators=(",", ":")).encode()
