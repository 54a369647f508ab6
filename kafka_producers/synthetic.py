"""The synthetic event stream: users with hidden tastes adding, removing, viewing releases.

:class:`EventStream` hands out chunks of ready-to-send Kafka messages. Everything random is
drawn with numpy in fixed blocks of :data:`BLOCK` events (users by a log-normal activity level,
event kinds, taste buckets, releases, event ids); only the collection bookkeeping (what each user
owns, so removes only remove owned releases and adds are new) runs per event.
:meth:`EventStream.next_chunk` is :meth:`~EventStream.encode` of :meth:`~EventStream.draw`: the
draw makes every choice and keeps that state, the encoding only formats, so the producer runs
them in two processes (:mod:`kafka_producers.generator_process`). For a given seed
the stream is identical from run to run whatever the chunk sizes asked for, except the
``event_time`` values, which follow the clock passed to :meth:`EventStream.next_chunk`.

The first events are the profiles of all users (topic ``users``), so every later event refers to
a known user. Malformed events (``bad_ratio``) replace collection/activity events and change no
collection state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from discorecs.core import events
from discorecs.core.catalog import ReleaseCatalog
from kafka_producers.malformed import CATEGORIES, Malformer
from kafka_producers.profiles import Profile, ProfileFactory
from kafka_producers.sampler import ReleaseSampler
from kafka_producers.tastes import Tastes, draw_tastes

ACTIONS = events.COLLECTION_ACTIONS + events.ACTIVITY_KINDS
"""Event actions: the two collection actions, then the three activity kinds."""
DEFAULT_MIX = (0.30, 0.05, 0.40, 0.15, 0.10)
"""Share of each of :data:`ACTIONS` among non-profile events."""
BLOCK = 4096
"""Events drawn per numpy block."""
PLAY_OWNED_P = 0.7
"""Chance that a play is of a release the user owns (when they own any)."""

USERS, COLLECTIONS, ACTIVITY = (events.KINDS.index(k) for k in ("users", "collections", "activity"))
_ADD, _REMOVE, _VIEW, _PLAY, _WANT = range(5)
_TOPIC_OF_ACTION = (COLLECTIONS, COLLECTIONS, ACTIVITY, ACTIVITY, ACTIVITY)
_ACTION_FIELD = {COLLECTIONS: "action", ACTIVITY: "kind"}
_quote = json.encoder.encode_basestring  # json.dumps(str, ensure_ascii=False), in C
_HEX_PAIRS = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2").view(np.uint16)


@dataclass
class Chunk:
    """Messages ready to send, in send order.

    Attributes:
        topics: Index into :data:`events.KINDS` of each message's topic.
        keys: Message keys (the decimal user id).
        values: Message values (wire JSON, or malformed on purpose).
        bad: Position -> reason category of each malformed message.

    """

    topics: list[int] = field(default_factory=list)
    keys: list[bytes] = field(default_factory=list)
    values: list[bytes] = field(default_factory=list)
    bad: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        """Return the number of messages."""
        return len(self.values)

    def head(self, n: int) -> Chunk:
        """The first ``n`` messages (this chunk itself when it has no more)."""
        if n >= len(self):
            return self
        bad = {at: reason for at, reason in self.bad.items() if at < n}
        return Chunk(self.topics[:n], self.keys[:n], self.values[:n], bad)


@dataclass(frozen=True)
class ProfileDraws:
    """The draws of a chunk of user profiles.

    Attributes:
        rows: User rows, in order.
        profiles: Their profiles.
        ids: Event ids (``S36``).
        stamps: Event times (``S24``).

    """

    rows: range
    profiles: list[Profile]
    ids: np.ndarray
    stamps: np.ndarray


@dataclass(frozen=True)
class EventDraws:
    """The draws of a chunk of collection and activity events, ownership already applied.

    Attributes:
        ids: Event ids (``S36``).
        stamps: Event times (``S24``).
        users: User rows.
        actions: Index into :data:`ACTIONS` of each event.
        release_ids: Release id of each event.
        spoiled: Malformation category of each event (negative: well-formed).

    """

    ids: np.ndarray
    stamps: np.ndarray
    users: np.ndarray
    actions: np.ndarray
    release_ids: np.ndarray
    spoiled: np.ndarray


@dataclass(frozen=True)
class Simulation:
    """Events of :meth:`EventStream.simulate`, in order.

    Attributes:
        users: User row of each event.
        actions: Index into :data:`ACTIONS` of each event.
        release_ids: Release id of each event.
        times_ms: Epoch milliseconds of each event.

    """

    users: np.ndarray
    actions: np.ndarray
    release_ids: np.ndarray
    times_ms: np.ndarray

    def collections(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What is owned at the end: (user rows, release ids, add time in ms) per owned pair.

        A pair is owned when its last collection event is an add; its time is that add's.
        """
        changes = np.flatnonzero(self.actions <= ACTIONS.index("remove"))
        order = changes[np.lexsort((changes, self.release_ids[changes], self.users[changes]))]
        users, releases = self.users[order], self.release_ids[order]
        last = np.ones(len(order), dtype=bool)
        last[:-1] = (users[1:] != users[:-1]) | (releases[1:] != releases[:-1])
        kept = order[last][self.actions[order[last]] == ACTIONS.index("add")]
        return self.users[kept], self.release_ids[kept], self.times_ms[kept]

    def activity(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Views, plays and wants: (user rows, release ids, times in ms)."""
        kept = np.flatnonzero(self.actions > ACTIONS.index("remove"))
        return self.users[kept], self.release_ids[kept], self.times_ms[kept]


def uuid4_array(rng: np.random.Generator, n: int) -> np.ndarray:
    """Return ``n`` random version-4 UUIDs as a numpy ``S36`` array."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    pairs = _HEX_PAIRS[raw].view(np.uint8)
    text = np.empty((n, 36), dtype=np.uint8)
    text[:, [8, 13, 18, 23]] = ord("-")
    for start, stop, source in ((0, 8, 0), (9, 13, 8), (14, 18, 12), (19, 23, 16), (24, 36, 20)):
        text[:, start:stop] = pairs[:, source : source + stop - start]
    return text.view("S36").ravel()


def iso_millis(times_ms: np.ndarray) -> np.ndarray:
    """Format epoch milliseconds as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` ASCII (an ``S24`` array)."""
    distinct, inverse = np.unique(times_ms, return_inverse=True)
    text = np.datetime_as_string(distinct.astype("datetime64[ms]"), unit="ms", timezone="UTC")
    return text.astype("S24")[inverse]


class EventStream:
    """A reproducible stream of synthetic user, collection and activity events."""

    def __init__(
        self,
        catalog: ReleaseCatalog,
        *,
        n_users: int,
        seed: int,
        bad_ratio: float = 0.0,
        first_user_id: int = 1,
        mix: tuple[float, ...] = DEFAULT_MIX,
    ):
        """Draw the population.

        Args:
            catalog: Releases to draw from.
            n_users: Number of users.
            seed: Seed of everything random.
            bad_ratio: Share of collection/activity events to replace by malformed ones.
            first_user_id: Id of the first user; users are numbered consecutively.
            mix: Share of each of :data:`ACTIONS`.

        """
        if n_users < 1:
            raise ValueError("need at least one user")
        self._rng = np.random.default_rng(seed)
        self.catalog = catalog
        self.sampler = ReleaseSampler(catalog, self._rng)
        self.tastes: Tastes = draw_tastes(n_users, self.sampler, self._rng)
        self.user_ids = list(range(first_user_id, first_user_id + n_users))
        activity = self._rng.lognormal(0.0, 1.0, size=n_users)
        self._activity_cdf = np.cumsum(activity) / activity.sum()
        self._mix = np.asarray(mix, dtype=np.float64) / sum(mix)
        self._keys = [str(u).encode() for u in self.user_ids]
        self._owned: list[list[int]] = [[] for _ in range(n_users)]
        self._owned_pos: list[dict[int, int]] = [{} for _ in range(n_users)]
        self._profiles = ProfileFactory(seed, n_users)
        self._profiles_sent = 0
        self._last_ms = 0
        self._malformer = Malformer(seed, bad_ratio, int(catalog.release_ids.max()))
        self._templates = [events.row_template(k).encode() for k in events.KINDS]
        self._action_templates = [
            events.row_template(
                events.KINDS[topic],
                {"schema_version": events.SCHEMA_VERSION, _ACTION_FIELD[topic]: action},
            ).encode()
            for action, topic in zip(ACTIONS, _TOPIC_OF_ACTION, strict=True)
        ]
        self._pending: list[np.ndarray] | None = None
        self._offset = 0

    @property
    def n_users(self) -> int:
        """Return the population size."""
        return len(self.user_ids)

    @property
    def profiles_pending(self) -> int:
        """Return how many user profiles are still to be sent."""
        return self.n_users - self._profiles_sent

    def owned(self, user: int) -> list[int]:
        """Return the release ids user row ``user`` owns now (in no particular order)."""
        return list(self._owned[user])

    def simulate(self, n_events: int, start_ms: int, span_ms: float) -> Simulation:
        """Run ``n_events`` collection and activity events in memory, without encoding them.

        The same draws and collection bookkeeping as :meth:`next_chunk`, for evaluating
        recommenders on the world the producer streams (no profiles, no Kafka).

        Args:
            n_events: Events to draw.
            start_ms: Epoch milliseconds of the first event.
            span_ms: Milliseconds the events spread over, evenly.

        Returns:
            Every event's user row, action, release id and time.

        """
        self._profiles_sent = self.n_users
        parts: list[tuple[np.ndarray, ...]] = []
        for first in range(0, n_events, BLOCK):
            n = min(BLOCK, n_events - first)
            _, users, actions, releases, picks, spoiled = self._take(n)
            parts.append((users, *self._apply_ownership(users, actions, releases, picks, spoiled)))
        users, actions, releases = (np.concatenate(column) for column in zip(*parts, strict=True))
        times = start_ms + (np.arange(n_events) * (span_ms / max(n_events, 1))).astype(np.int64)
        return Simulation(users, actions, releases, times)

    def next_chunk(self, n: int, now_ms: int, interval_ms: float = 0.0) -> Chunk:
        """Generate the next ``n`` messages: :meth:`encode` of :meth:`draw`.

        Args:
            n: Number of messages (fewer while user profiles are being sent: a chunk never
                mixes profiles with other events).
            now_ms: Clock (epoch ms) of the first message; times never go backwards.
            interval_ms: Milliseconds between consecutive events' times.

        Returns:
            The messages, in send order.

        """
        return self.encode(self.draw(n, now_ms, interval_ms))

    def draw(self, n: int, now_ms: int, interval_ms: float = 0.0) -> ProfileDraws | EventDraws:
        """Draw the next ``n`` events and advance the state (profiles sent, what users own).

        Every random draw and all the state live here; :meth:`encode` only formats, so the two
        can run in different processes as long as each draw is encoded once, in order.

        Args:
            n: Number of events (fewer while user profiles are being sent).
            now_ms: Clock (epoch ms) of the first event; times never go backwards.
            interval_ms: Milliseconds between consecutive events' times.

        Returns:
            The profiles' or the events' draws.

        """
        if self._profiles_sent < self.n_users:
            n = min(n, self.n_users - self._profiles_sent)
        start = max(int(now_ms), self._last_ms)
        times_ms = start + (np.arange(n) * interval_ms).astype(np.int64)
        self._last_ms = int(times_ms[-1]) if n else start
        stamps = iso_millis(times_ms)
        ids, users, actions, releases, picks, spoiled = self._take(n)
        if self._profiles_sent < self.n_users:
            rows = range(self._profiles_sent, self._profiles_sent + n)
            profiles = self._profiles.make(rows, [self.user_ids[r] for r in rows])
            self._profiles_sent = rows.stop
            return ProfileDraws(rows, profiles, ids, stamps)
        acts, rels = self._apply_ownership(users, actions, releases, picks, spoiled)
        return EventDraws(ids, stamps, users, acts, rels, spoiled)

    def encode(self, draws: ProfileDraws | EventDraws) -> Chunk:
        """Format drawn events as messages (malformed ones spoiled with their own generator)."""
        if isinstance(draws, ProfileDraws):
            return self._profile_chunk(draws)
        return self._activity_chunk(draws)

    def _block(self) -> list[np.ndarray]:
        rng = self._rng
        ids = uuid4_array(rng, BLOCK)
        users = np.searchsorted(self._activity_cdf, rng.random(BLOCK), side="right")
        users = np.minimum(users, self.n_users - 1)
        actions = rng.choice(len(ACTIONS), size=BLOCK, p=self._mix)
        buckets = self.tastes.draw_buckets(users, rng.random(BLOCK))
        affinity = self.tastes.decade_affinity[users]
        drawn = self.sampler.draw(buckets, affinity, rng.random(BLOCK), rng.random(BLOCK))
        releases = self.catalog.release_ids[drawn]
        picks = rng.random(BLOCK)
        spoiled = self._malformer.draw(BLOCK)
        return [ids, users, actions, releases, picks, spoiled]

    def _take(self, n: int) -> list[np.ndarray]:
        while self._pending is None or len(self._pending[0]) - self._offset < n:
            block = self._block()
            if self._pending is not None:
                rest = [p[self._offset :] for p in self._pending]
                block = [np.concatenate([r, b]) for r, b in zip(rest, block, strict=True)]
            self._pending = block
            self._offset = 0
        end = self._offset + n
        taken = [p[self._offset : end] for p in self._pending]
        self._offset = end
        return taken

    def _profile_chunk(self, draws: ProfileDraws) -> Chunk:
        template = self._templates[USERS]
        ids, stamps = draws.ids.tolist(), draws.stamps.tolist()
        chunk = Chunk()
        for i, (row, profile) in enumerate(zip(draws.rows, draws.profiles, strict=True)):
            texts = [
                _quote(v).encode()
                for v in (profile.name, profile.username, profile.email, profile.location)
            ]
            value = template % (
                events.SCHEMA_VERSION,
                ids[i],
                stamps[i],
                self.user_ids[row],
                *texts,
                profile.joined_at.encode(),
            )
            chunk.topics.append(USERS)
            chunk.keys.append(self._keys[row])
            chunk.values.append(value)
        return chunk

    def _activity_chunk(self, draws: EventDraws) -> Chunk:
        acts, rels = draws.actions.tolist(), draws.release_ids.tolist()
        ids, stamps, spoiled = draws.ids, draws.stamps.tolist(), draws.spoiled
        user_ids = (draws.users + self.user_ids[0]).tolist()
        templates = self._action_templates
        values = [
            templates[a] % (e, t, uid, r)
            for a, e, t, uid, r in zip(acts, ids.tolist(), stamps, user_ids, rels, strict=True)
        ]
        keys_by_row = self._keys
        chunk = Chunk(
            [_TOPIC_OF_ACTION[a] for a in acts],
            [keys_by_row[u] for u in draws.users.tolist()],
            values,
        )
        for i in np.flatnonzero(spoiled >= 0).tolist():
            good = (
                events.SCHEMA_VERSION,
                ids[i].decode(),
                stamps[i].decode(),
                user_ids[i],
                rels[i],
            )
            kind = events.KINDS[chunk.topics[i]]
            values[i] = self._malformer.spoil(int(spoiled[i]), kind, (*good, ACTIONS[acts[i]]))
            chunk.bad[i] = CATEGORIES[spoiled[i]]
        return chunk

    def _apply_ownership(
        self,
        users: np.ndarray,
        actions: np.ndarray,
        releases: np.ndarray,
        picks: np.ndarray,
        spoiled: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Keep each user's owned set, turning draws into consistent actions and releases.

        An add of an owned release becomes a play; a remove takes an owned release (or, with
        nothing owned, becomes an add); a play is of an owned release with
        :data:`PLAY_OWNED_P`. Malformed events change nothing.

        Returns:
            The final action (``int8``) and release id (``int64``) of every event.

        """
        plays_owned = (actions == _PLAY) & (picks < PLAY_OWNED_P)
        stateful = np.flatnonzero(
            ((actions == _ADD) | (actions == _REMOVE) | plays_owned) & (spoiled < 0)
        )
        acts = actions[stateful].tolist()
        rels = releases[stateful].tolist()
        chances = picks[stateful].tolist()
        owned_all, pos_all = self._owned, self._owned_pos
        for j, u in enumerate(users[stateful].tolist()):
            owned, pos = owned_all[u], pos_all[u]
            action, release = acts[j], rels[j]
            if action == _ADD:
                if release in pos:
                    acts[j] = _PLAY
                else:
                    pos[release] = len(owned)
                    owned.append(release)
            elif action == _REMOVE:
                if not owned:
                    acts[j] = _ADD
                    pos[release] = 0
                    owned.append(release)
                    continue
                release = rels[j] = owned[int(chances[j] * len(owned))]
                last = owned.pop()
                if last != release:
                    slot = pos[release]
                    owned[slot] = last
                    pos[last] = slot
                del pos[release]
            elif owned:
                rels[j] = owned[int(chances[j] / PLAY_OWNED_P * len(owned))]
        final_actions = actions.astype(np.int8)
        final_actions[stateful] = acts
        final_releases = releases.astype(np.int64)
        final_releases[stateful] = rels
        return final_actions, final_releases
