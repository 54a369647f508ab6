"""The synthetic world to evaluate on, generated in memory by the producers' own generator.

The catalogue is the Discogs-shaped demo catalogue (or a parser JSONL); the users, their hidden
tastes and their collections come from :class:`~kafka_producers.synthetic.EventStream`, run in
memory (:meth:`~kafka_producers.synthetic.EventStream.simulate`: no Kafka). The world keeps the
stream, so the oracle (:mod:`kafka_producers.oracle`) and friend quality can read the hidden
tastes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from discorecs.app.evaluation.interactions import Interactions, catalog_content, catalog_rows
from discorecs.core.catalog import ReleaseCatalog, load_jsonl
from kafka_producers.demo_catalog import demo_catalog
from kafka_producers.oracle import oracle_top
from kafka_producers.synthetic import EventStream

DAY_MS = 86_400_000
START_MS = 1_767_225_600_000
"""2026-01-01T00:00:00Z: the first simulated event."""


@dataclass(frozen=True)
class WorldSpec:
    """How big a synthetic world to build.

    Attributes:
        users: Number of users.
        releases: Size of the demo catalogue (ignored with ``catalog``).
        events_per_user: Collection and activity events drawn per user on average.
        days: Days the events spread over.
        catalog: A parser JSONL to use as the catalogue instead of the demo one.

    """

    users: int = 20_000
    releases: int = 50_000
    events_per_user: int = 100
    days: int = 90
    catalog: Path | None = None


@dataclass(frozen=True)
class SyntheticWorld:
    """Interactions with the stream that generated them (for the oracle and friend quality)."""

    interactions: Interactions
    stream: EventStream

    def oracle(
        self, users: np.ndarray, exclude: list[np.ndarray], n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The hidden-taste ranking (item rows are catalogue positions)."""
        return oracle_top(self.stream.tastes, self.stream.sampler, users, exclude, n)

    def friend_quality(self, users: np.ndarray, friends: np.ndarray) -> float:
        """Mean of cos(hidden taste, friend's) / cos(hidden taste, best other user's).

        The hidden taste is the 15-genre weight vector the user's draws were aimed at; the best
        other user is found by exact search. Users without a friend (-1) are left out.
        """
        hidden = self.stream.tastes.genre_weights.astype(np.float32)
        hidden /= np.maximum(np.linalg.norm(hidden, axis=1, keepdims=True), 1e-12)
        keep = friends >= 0
        users, friends = users[keep], friends[keep]
        if len(users) == 0:
            return float("nan")
        index = faiss.IndexFlatIP(hidden.shape[1])
        index.add(hidden)
        sims, ids = index.search(hidden[users], 2)
        best = np.where(ids[:, 0] == users, sims[:, 1], sims[:, 0])
        chosen = np.einsum("ij,ij->i", hidden[users], hidden[friends])
        return float(np.mean(chosen / np.maximum(best, 1e-12)))


def build_world(spec: WorldSpec, seed: int) -> SyntheticWorld:
    """Generate one synthetic world.

    Args:
        spec: Sizes.
        seed: Seed of the catalogue (demo), the users, their tastes and their events.

    Returns:
        The world; item rows are catalogue positions, user rows are the stream's rows.

    """
    catalog: ReleaseCatalog = (
        load_jsonl(spec.catalog) if spec.catalog else demo_catalog(spec.releases, seed=seed)
    )
    stream = EventStream(catalog, n_users=spec.users, seed=seed)
    simulation = stream.simulate(spec.users * spec.events_per_user, START_MS, spec.days * DAY_MS)
    users, releases, times = simulation.collections()
    active_users, active_releases, active_times = simulation.activity()
    items, _ = catalog_rows(catalog, releases)
    interactions = Interactions(
        user_ids=np.asarray(stream.user_ids, dtype=np.int64),
        item_ids=catalog.release_ids,
        users=users,
        items=items,
        times=times / 1000.0,
        weights=np.ones(len(users), dtype=np.float32),
        content=catalog_content(catalog),
        activity=(
            active_users,
            catalog_rows(catalog, active_releases)[0],
            active_times / 1000.0,
        ),
    )
    return SyntheticWorld(interactions, stream)
