"""Content-based: a mixture over the user's genres, styles, artists and labels, times the era."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import (
    ItemContent,
    ScoreRanker,
    TrainData,
    binarise,
    ranked_entries,
    row_stochastic,
)
from spark_jobs.scoring.rankers.era import EraModel
from spark_jobs.scoring.rankers.popular import ranking_by
from spark_jobs.scoring.rankers.selection import top_n, top_n_sparse
from spark_jobs.scoring.recommend import cells, find_sorted

LOYALTY_BLOCKS = ("artist", "label")
"""Blocks whose counts are discounted: one release of an artist is weak evidence of loyalty."""
BROAD_BLOCKS = ("genre",)
"""Blocks whose features each hold a large part of the catalogue: a user's score under them
covers nearly every item, so they are scored on candidates only (:meth:`ContentBased.recommend`)."""
POPULAR_ITEMS = 1000
"""Default number of the most popular items that are candidates for every user: one dense block
each, so a fixed number rather than a share of the catalogue (content's lists in 0.59-0.65 ms a
user at 1M users and 200K releases against 0.87-0.90 with 5 % of them, the same lists; 1 000
was as fast as any count tried from 100 to 10 000 at 50K and 200K releases)."""
CANDIDATE_USERS = 1024
"""Default number of users whose candidates are scored at once."""
PREFIX_DEPTH = 64
"""Default number of items, the most popular, that each narrow feature (a style, an artist, a
label) first makes candidates; four times as many for the users that cannot be proven."""
REFINED = 2
"""Candidates per list slot whose narrow score is completed (the best by their partial score).
The lists are the same at any count (a user's list is proven or tried again); the hybrid's lists
took 0.488-0.501 ms a user at 2 against 0.496-0.545 at 4, 0.562-0.584 at 1 and 0.531-0.562 at 6
(300K users x 200K releases, 8 192 users in calls of 512, three rounds each)."""


@dataclass(frozen=True)
class Mixture:
    """Users' content profile, as :meth:`ContentBased.mixture` gives it.

    Attributes:
        affinity: ``(users, slots)`` era affinity per decade slot.
        weights: Per block, ``(users, features)`` CSR: the feature shares over ``Z_f``.

    """

    affinity: np.ndarray
    weights: dict[str, sp.csr_matrix]

    def take(self, positions: np.ndarray) -> Mixture:
        """The same of the users at ``positions``."""
        return Mixture(
            self.affinity[positions],
            {name: sp.csr_matrix(block[positions]) for name, block in self.weights.items()},
        )


PairParts = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]
"""``parts(positions, items)``: score parts of (user position, item) pairs, per part name."""


def members(features: sp.csr_matrix, popularity: np.ndarray) -> sp.csr_matrix:
    """``(features, items)``: each item's popularity under each feature it has (else 0).

    Args:
        features: ``(items, features)`` non-negative weights; a positive one counts as having
            the feature (:func:`~.base.binarise`, which copies: the caller's matrix is kept).
        popularity: ``(items,)`` positive popularity.

    """
    has = binarise(features)
    return sp.csr_matrix(sp.diags(popularity.astype(np.float32)) @ has).T.tocsr()


def discounted_shares(counts: sp.csr_matrix, discount: float) -> sp.csr_matrix:
    """Each row's counts less ``discount`` (at least 0), as shares of the row's total."""
    kept = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    kept.data = np.maximum(kept.data - discount, 0.0)
    kept.eliminate_zeros()
    return row_stochastic(kept)


def feature_sets(features: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """The distinct sets of features the rows have, and each row's set.

    Args:
        features: ``(rows, features)`` CSR, at most 62 features (the broad blocks are few:
            genres); any stored non-zero counts as having the feature.

    Returns:
        ``(sets, features)`` float32 0/1 rows, one per distinct set, and ``(rows,)`` the index
        of each row's set.

    """
    n_rows, n_features = features.shape
    if n_features > 62:
        raise ValueError(f"{n_features} features do not fit a set's 62-bit code")
    kept = sp.csr_matrix(features, copy=True)
    kept.eliminate_zeros()
    rows = np.repeat(np.arange(n_rows), np.diff(kept.indptr))
    codes = np.zeros(n_rows, dtype=np.int64)
    np.bitwise_or.at(codes, rows, np.left_shift(1, kept.indices.astype(np.int64)))
    distinct, of_row = np.unique(codes, return_inverse=True)
    sets = (distinct[:, None] >> np.arange(n_features)) & 1
    return sets.astype(np.float32), of_row.ravel()


def ranked_rows(matrix: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`.ranked_entries` of a CSR matrix's stored values."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    return ranked_entries(rows, matrix.indices, matrix.data, matrix.shape[0])


def row_top_sums(matrix: sp.csr_matrix, width: int) -> np.ndarray:
    """Each row's sum of its ``width`` largest positive stored values."""
    rows, ranks, _, values = ranked_rows(matrix)
    kept = ranks < width
    return np.bincount(rows[kept], values[kept], minlength=matrix.shape[0])


def merge_lists(
    first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The best ``n`` of two top-n lists per row over disjoint items (ties to the lower item).

    Args:
        first: ``(m, n)`` item rows (-1 padded) and scores (nan padded).
        second: The same for other items.
        n: List length.

    Returns:
        ``(m, n)`` item rows and scores, -1 / nan padded.

    """
    ids = np.concatenate([first[0], second[0]], axis=1)
    values = np.concatenate([first[1], second[1]], axis=1)
    key = np.where(ids >= 0, -np.nan_to_num(values, nan=0.0), np.inf)
    order = np.lexsort((np.where(ids >= 0, ids, np.iinfo(np.int64).max), key), axis=-1)[:, :n]
    return np.take_along_axis(ids, order, axis=1), np.take_along_axis(values, order, axis=1)


class ContentBased(ScoreRanker):
    """Content-based filtering as a mixture model over the items' features.

    A user's profile is, per block (genres, styles, artists, labels), the share of their items
    with each feature; artist and label counts are first lowered by ``discount``, so a single
    release of an artist says little and three say a lot. The user's next item comes from
    feature ``f`` with that share, and within ``f`` with probability
    ``popularity(x) * a(x) / Z_f``: its popularity (``owners + smoothing``) times the user's
    era affinity ``a`` for its decade (:class:`~.era.EraModel`), over the same sum for all the
    items of ``f``. So a favourite artist's thirty releases share that artist's weight among
    them, while a genre's weight is spread over thousands; and a feature whose releases lie
    outside the user's era is normalised by its little in-era mass, not left out. The blocks
    are summed by their weights.

    Items nobody owns in training still score (at ``smoothing``), so this is the only ranker
    that can list them. The items of a user's ``train.activity`` (views, plays, wants) join the
    profile at ``activity_weight`` each (at least 1 for a user with no items; with neither, the
    list is empty). Folding in ``user_items`` profiles those rows instead of the training rows.
    On the synthetic world (5 000 users, one seed) the era posterior, the per-feature
    normalisation and the discount lift Recall@10 from 0.249 to 0.261 over the same mixture
    with a smoothed share of decades as the era.

    Args:
        genre: Weight of the genre block.
        style: Weight of the style block.
        artist: Weight of the artist block.
        label: Weight of the label block.
        discount: Subtracted from each artist and label count of a profile.
        smoothing: Added to every item's owner count to make its popularity.
        activity_weight: Weight of an activity item in the profile relative to an owned one.
        popular_items: Number of the most popular items that are candidates for every user
            (:meth:`recommend`; at least 1).
        candidate_users: Users whose candidates are scored at once.
        prefix_depth: Items, the most popular, each narrow feature first makes candidates.

    """

    name = "content"
    needs_content = True

    def __init__(
        self,
        genre: float = 0.2,
        style: float = 1.0,
        artist: float = 1.0,
        label: float = 0.5,
        discount: float = 0.5,
        smoothing: float = 0.3,
        activity_weight: float = 1.0,
        popular_items: int = POPULAR_ITEMS,
        candidate_users: int = CANDIDATE_USERS,
        prefix_depth: int = PREFIX_DEPTH,
    ) -> None:
        self.weights = {"genre": genre, "style": style, "artist": artist, "label": label}
        self.discount = discount
        self.smoothing = smoothing
        self.activity_weight = activity_weight
        self.popular_items = max(popular_items, 1)
        self.candidate_users = candidate_users
        self.prefix_depth = max(prefix_depth, 1)

    def _fit(self, train: TrainData) -> None:
        content: ItemContent = train.require_content(self.name)
        popularity = train.owners + self.smoothing
        blocks = {
            "genre": content.genres,
            "style": content.styles,
            "artist": content.artists,
            "label": content.labels,
        }
        self.features = {b: binarise(m) for b, m in blocks.items() if self.weights[b]}
        self.members = {b: members(m, popularity) for b, m in self.features.items()}
        self.item_members = {b: m.T.tocsr() for b, m in self.members.items()}
        self.weighted_members = sp.vstack(
            [self.weights[b] * m for b, m in self.members.items()], format="csr"
        )
        self.era = EraModel.fit(content.decades, popularity)
        self.item_slots = self.era.slot_matrix()
        self.slot_mass = {
            b: np.asarray((m @ self.item_slots).todense(), dtype=np.float64)
            for b, m in self.members.items()
        }
        self.activity = None if train.activity is None else binarise(train.activity)
        self._fit_candidates(popularity)

    def _fit_candidates(self, popularity: np.ndarray) -> None:
        """What :meth:`candidate_top_n` reuses: popular items, the blocks split, the prefixes."""
        n_items = self.train.n_items
        broad = [b for b in self.members if b in BROAD_BLOCKS]
        narrow = [b for b in self.members if b not in BROAD_BLOCKS]
        self.broad_scale = self._block_scale(broad)
        broad_items = sp.hstack(
            [self.item_members[b] for b in broad] or [sp.csr_matrix((n_items, 0))], format="csr"
        )
        self.broad_sets, item_broad_set = feature_sets(broad_items)
        self.item_set_column = item_broad_set.astype(np.int32)
        self.item_slot_column = (len(self.broad_sets) + self.era.slots).astype(np.int32)
        self.item_popularity = popularity.astype(np.float32)
        self.broad_width = int(self.broad_sets.sum(axis=1).max(initial=0))
        self.narrow_members = sp.vstack(
            [self.weights[b] * self.members[b] for b in narrow] or [sp.csr_matrix((0, n_items))],
            format="csr",
        )
        self.narrow_members.sort_indices()
        self.item_narrow = self.narrow_members.T.tocsr()
        self.narrow_scale = self._block_scale(narrow)
        bounds = np.cumsum([0] + [self.members[b].shape[0] for b in narrow])
        self.narrow_widths = [
            (int(lo), int(hi), int(np.diff(self.item_narrow[:, lo:hi].indptr).max(initial=0)))
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        ranked = ranking_by(popularity)
        size = min(self.popular_items, n_items)
        self.popular = np.sort(ranked[:size])
        self.is_popular = np.zeros(n_items, dtype=bool)
        self.is_popular[self.popular] = True
        self.popular_broad = np.asarray(broad_items[self.popular].T.toarray(), dtype=np.float32)
        self.popular_narrow = sp.csr_matrix(self.narrow_members[:, self.popular])
        self.outside_popularity = float(popularity[ranked[size]]) if size < len(ranked) else 0.0
        self._fit_prefixes()

    def _block_scale(self, blocks: list[str]) -> np.ndarray:
        """The block weight of each feature of ``blocks``, stacked in their order."""
        return np.concatenate(
            [np.full(self.members[b].shape[0], self.weights[b]) for b in blocks] or [np.zeros(0)]
        )

    def _fit_prefixes(self) -> None:
        """Rank each narrow feature's items by their value, for :meth:`prefix`."""
        self.narrow_ranked = ranked_rows(self.narrow_members)
        self.largest_feature = int(np.diff(self.narrow_members.indptr).max(initial=0))
        self._prefixes: dict[int, tuple[sp.csr_matrix, np.ndarray]] = {}

    def prefix(self, depth: int) -> tuple[sp.csr_matrix, np.ndarray]:
        """Each narrow feature cut to its ``depth`` most valued items, and the value just below.

        Returns:
            ``(narrow features, items)`` CSR of the kept entries that are not popular items
            (those are candidates anyway, scored whole), and per feature the value (block
            weight times popularity) of its ``depth + 1``-th item, 0 when it has none.

        """
        if depth not in self._prefixes:
            rows, ranks, columns, values = self.narrow_ranked
            shape = self.narrow_members.shape
            kept = (ranks < depth) & ~self.is_popular[columns]
            cut = sp.csr_matrix((values[kept], (rows[kept], columns[kept])), shape=shape)
            below = np.zeros(shape[0], dtype=np.float64)
            at = ranks == depth
            below[rows[at]] = values[at]
            self._prefixes[depth] = (cut, below)
        return self._prefixes[depth]

    def profile(self, users: np.ndarray, rows: sp.csr_matrix) -> sp.csr_matrix:
        """The users' items, their activity joined at its weight."""
        source = binarise(rows)
        if self.activity is None:
            return source
        empty = (np.diff(source.indptr) == 0).astype(np.float32)
        weight = np.maximum(empty, self.activity_weight)
        return sp.csr_matrix(source + sp.diags(weight) @ self.activity[users])

    def mixture(self, users: np.ndarray, rows: sp.csr_matrix) -> Mixture:
        """The users' era affinity per slot and, per block, their feature shares over ``Z_f``."""
        source = self.profile(users, rows)
        affinity = self.era.affinity(np.asarray((source @ self.item_slots).todense()))
        weights = {}
        for name, features in self.features.items():
            discount = self.discount if name in LOYALTY_BLOCKS else 0.0
            shares = discounted_shares(sp.csr_matrix(source @ features), discount).tocoo()
            norm = np.einsum("ij,ij->i", self.slot_mass[name][shares.col], affinity[shares.row])
            weights[name] = sp.csr_matrix(
                (shares.data / np.maximum(norm, 1e-300), (shares.row, shares.col)),
                shape=shares.shape,
                dtype=np.float32,
            )
        return Mixture(affinity, weights)

    def scores(self, users: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        """``P(item)`` under the user's mixture of features and era."""
        mixture = self.mixture(users, rows)
        shares = sp.hstack([mixture.weights[name] for name in self.members], format="csr")
        block = sp.csr_matrix(shares @ self.weighted_members).toarray()
        block *= mixture.affinity[:, self.era.slots].astype(np.float32)
        return block

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The top-n of :meth:`scores` (:meth:`recommend_with_parts`)."""
        return self.recommend_with_parts(users, n, user_items)[0]

    def recommend_with_parts(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[tuple[np.ndarray, np.ndarray], PairParts]:
        """The top-n of :meth:`scores`, and the score parts of any pairs of the same users.

        The parts (:meth:`pair_parts`) come from the mixture the lists were ranked by, so a
        caller wanting both (the hybrid's candidate table) does not profile the users twice.

        A user's candidates are the ``popular_items`` most popular items and the ``depth``
        most popular items of each of their narrow features (styles, artists, labels)
        (:meth:`candidate_top_n`). A user whose n-th candidate scores above what any other item
        can score has the very list :meth:`scores` gives; the others are tried again with four
        times the depth, and those still unproven once every item of their features is a
        candidate (few) are scored on every item.

        Returns:
            The ``(len(users), n)`` item rows and scores, and the parts of ``(positions, items)``
            pairs, positions in ``users``.

        """
        users = np.asarray(users, dtype=np.int64)
        rows = self.rows(users, user_items)
        mixture = self.mixture(users, rows)
        parts = partial(self.pair_parts, mixture)
        ids = np.full((len(users), n), -1, dtype=np.int64)
        values = np.full((len(users), n), np.nan, dtype=np.float32)
        if n == 0:
            return (ids, values), parts
        step = self.candidate_users
        for lo in range(0, len(users), step):
            pending = np.arange(lo, min(lo + step, len(users)))
            depth = self.prefix_depth
            while len(pending):
                top_ids, top_values, bound = self.candidate_top_n(
                    mixture.take(pending), rows[pending], n, depth
                )
                sure = (bound <= 0) | (top_values[:, n - 1] > bound)
                ids[pending[sure]], values[pending[sure]] = top_ids[sure], top_values[sure]
                pending = pending[~sure]
                if depth >= self.largest_feature:
                    break
                depth *= 4
            if len(pending):
                ids[pending], values[pending] = self.every_item_top_n(
                    users[pending], rows[pending], n
                )
        return (ids, values), parts

    def every_item_top_n(
        self, users: np.ndarray, rows: sp.csr_matrix, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The users' top-n of :meth:`scores` over every item (no candidates)."""
        return super().recommend(users, n, rows)

    def candidate_top_n(
        self, mixture: Mixture, rows: sp.csr_matrix, n: int, depth: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The users' top-n of :meth:`scores` over their candidates, and the bound on the rest.

        The popular items are scored whole as one dense block (the broad blocks by a matrix
        product). The other candidates, the items of the users' narrow features' prefixes
        (:meth:`prefix`), first get a partial score: their broad features and the narrow
        features whose prefix holds them. The :data:`REFINED` ``* n`` best by that are scored
        whole (:meth:`completed`); any other candidate scores at most its partial score plus
        what its missing features can add (:meth:`missing_bound`), and an item that is no
        candidate at most :meth:`outside_bound` plus the same.

        Args:
            mixture: The users' :meth:`mixture`.
            rows: Their item rows.
            n: List length.
            depth: Items each narrow feature makes candidates (the most popular first).

        Returns:
            ``(len(users), n)`` item rows and scores as :func:`.top_n` gives them, and per user
            the highest score an item not in that list's candidates can have.

        """
        affinity, weights = mixture.affinity, mixture.weights
        m = rows.shape[0]
        narrow = [weights[b] for b in self.members if b not in BROAD_BLOCKS]
        broad = [weights[b] for b in self.members if b in BROAD_BLOCKS]
        shares = sp.hstack(broad, format="csr").toarray() if broad else np.zeros((m, 0))
        weighted = (shares * self.broad_scale).astype(np.float32)
        narrow_shares = sp.csr_matrix(
            sp.hstack(narrow, format="csr") if narrow else sp.csr_matrix((m, 0), dtype=np.float32)
        )
        narrow_shares.sort_indices()
        popular = weighted @ self.popular_broad + (narrow_shares @ self.popular_narrow).toarray()
        slot_affinity = affinity.astype(np.float32)
        popular *= slot_affinity[:, self.era.slots[self.popular]]
        popular_ids, popular_values = top_n(popular, sp.csr_matrix(rows[:, self.popular]), n)
        popular_ids = np.where(popular_ids >= 0, self.popular[np.maximum(popular_ids, 0)], -1)
        cut, below = self.prefix(depth)
        whole = depth >= self.largest_feature
        touched = sp.csr_matrix(narrow_shares @ cut)
        by_user = np.hstack([weighted @ self.broad_sets.T, slot_affinity])
        partial = self.pair_scores(touched.data, by_user, touched.indices, touched.indptr)
        outside = self.outside_bound(weighted, affinity)
        if whole:
            rest_ids, rest_values = top_n_sparse(partial, rows, n)
            ids, values = merge_lists((popular_ids, popular_values), (rest_ids, rest_values), n)
            return ids, values, outside
        depth_ids, depth_values = top_n_sparse(partial, rows, REFINED * n + 1)
        best_ids = depth_ids[:, :-1]
        rest_ids, rest_values = self.completed(narrow_shares, by_user, best_ids, n)
        ids, values = merge_lists((popular_ids, popular_values), (rest_ids, rest_values), n)
        missing = self.missing_bound(narrow_shares, below) * affinity.max(axis=1)
        next_partial = np.nan_to_num(depth_values[:, -1], nan=0.0)
        return ids, values, np.maximum(next_partial, outside) + missing

    def pair_scores(
        self,
        narrow: np.ndarray,
        by_user: np.ndarray,
        items: np.ndarray,
        indptr: np.ndarray,
    ) -> sp.csr_matrix:
        """The scores of (user position, item) pairs given their narrow part, as a CSR block.

        The broad part is added: an item has its popularity under each broad feature it has,
        so its part is that popularity times the user's weighted shares of its set of broad
        features (one product per user and distinct set, a few hundred genre sets, made once a
        block; then one look-up per pair). The sum is then scaled by the user's affinity to
        the item's era. Both look-ups are cells of ``by_user``, at the columns
        :attr:`item_set_column` and :attr:`item_slot_column` give each item.

        Args:
            narrow: Each pair's narrow score (overwritten with the whole score).
            by_user: ``(m, sets + slots)`` float32: the users' weighted broad shares summed
                over each distinct set of broad features (``weighted @ broad_sets.T``), then
                their era affinity per slot.
            items: Each pair's item row, the pairs ordered by user position.
            indptr: ``(m + 1,)`` where each user's pairs start.

        Returns:
            ``(m, n_items)``, row ``u`` holding user ``u``'s pairs.

        """
        user = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        popularity = self.item_popularity.take(items)
        narrow += cells(by_user, user, self.item_set_column.take(items)) * popularity
        narrow *= cells(by_user, user, self.item_slot_column.take(items))
        return sp.csr_matrix((narrow, items, indptr), shape=(len(indptr) - 1, self.train.n_items))

    def completed(
        self,
        narrow_shares: sp.csr_matrix,
        by_user: np.ndarray,
        ids: np.ndarray,
        n: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The top-n of given candidates (-1 padded) by their whole score.

        Args:
            narrow_shares: ``(users, narrow features)`` CSR with sorted indices: the users'
                narrow shares.
            by_user: Their weighted broad shares per set and era affinities
                (:meth:`pair_scores`).
            ids: ``(users, k)`` candidate item rows, -1 padded.
            n: List length.

        """
        m = ids.shape[0]
        listed = ids >= 0
        counts = listed.sum(axis=1)
        user = np.repeat(np.arange(m), counts)
        items = ids[listed]
        indptr = np.concatenate([[0], np.cumsum(counts)])
        entries = self.item_narrow[items]
        pair = np.repeat(np.arange(len(items)), np.diff(entries.indptr))
        n_features = narrow_shares.shape[1]
        keys = np.repeat(np.arange(m), np.diff(narrow_shares.indptr)) * n_features
        at, found = find_sorted(
            keys + narrow_shares.indices, user[pair] * n_features + entries.indices
        )
        shared = np.where(found, narrow_shares.data[at], 0.0) * entries.data
        value = np.bincount(pair, shared, minlength=len(items)).astype(np.float32)
        scores = self.pair_scores(value, by_user, items, indptr)
        return top_n_sparse(scores, sp.csr_matrix((m, self.train.n_items)), n)

    def missing_bound(self, narrow_shares: sp.csr_matrix, below: np.ndarray) -> np.ndarray:
        """Per user, the most that narrow features cut before an item can add to its score.

        An item outside a feature's prefix is no more popular than the value just below it
        (``below``), and a non-popular item no more than :attr:`outside_popularity`; it has at
        most the widest item's number of features of each block. Times the era affinity.
        """
        capped = sp.csr_matrix(narrow_shares, copy=True)
        ceiling = self.narrow_scale[capped.indices] * self.outside_popularity
        capped.data = capped.data * np.minimum(below[capped.indices], ceiling)
        total = np.zeros(capped.shape[0])
        for lo, hi, width in self.narrow_widths:
            total += row_top_sums(sp.csr_matrix(capped[:, lo:hi]), width)
        return total * (1 + 1e-5)

    def outside_bound(self, weighted: np.ndarray, affinity: np.ndarray) -> np.ndarray:
        """Per user, the most a non-candidate item can score (by its broad blocks alone).

        Such an item is no more popular than :attr:`outside_popularity`, has at most as many
        broad features as the item with the most, and its era affinity is at most the user's
        highest.

        Args:
            weighted: ``(users, broad features)`` the users' broad shares times block weights.
            affinity: ``(users, slots)`` their era affinities.

        """
        width = self.broad_width
        if width == 0 or self.outside_popularity == 0.0:
            return np.zeros(len(weighted))
        top = np.sort(weighted, axis=1)[:, -width:].sum(axis=1) * affinity.max(axis=1)
        return top * self.outside_popularity * (1 + 1e-5)

    def pair_parts(
        self, mixture: Mixture, positions: np.ndarray, items: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The parts of :meth:`scores` for given (user, item) pairs, without scoring every item.

        Args:
            mixture: The users' :meth:`mixture`.
            positions: Each pair's user position in it.
            items: Each pair's item row.

        Returns:
            Per block (``content_<block>``) the pair's share-weighted popularity before the era,
            and ``content_era``: the user's era affinity for the item's decade. The score is
            the block weights' sum of the former times the latter.

        """
        parts = {}
        for name, shares in mixture.weights.items():
            item_side = self.item_members[name][items].tocoo()
            values = np.asarray(shares[positions[item_side.row], item_side.col]).ravel()
            parts[f"content_{name}"] = np.bincount(
                item_side.row, values * item_side.data, minlength=len(items)
            )
        parts["content_era"] = cells(mixture.affinity, positions, self.era.slots[items])
        return parts
