"""The hybrid's ranking model: LightGBM LambdaRank over the sources' candidates.

A candidate is a (user, item) pair from the union of the sources' top-``depth`` lists. Its
features (:func:`candidate_table`):

- per source ``s``: ``s_score``, its score over the user's best score there (0 when ``s`` does
  not list the item), and ``s_rank``, its rank in ``s``'s list (:data:`ABSENT_RANK` when absent);
- ``popularity``: ``log(1 + owners)`` of the item; ``size``: ``log(1 + items)`` of the user;
- when a source gives them (content does, :meth:`~.content.ContentBased.pair_parts`), the
  parts of its score: the share-weighted popularity of each feature block and the era affinity.

The model is learnt from the training data alone (:func:`learn_ranker`): for a random sample of
the users, the training data is split again by the evaluation's rule (each one's latest 20 %
held out, users with 2-4 items their latest; everyone else's items all stay, as they are when
the model serves), fresh sources are fitted on the rest, and the sampled users' candidates are
labelled by whether the user added them later. LambdaRank orders each user's
candidates for NDCG@10; users none of whose held-out items is a candidate teach nothing and are
left out. With no such user (a tiny world) there is no model, and candidates are ranked by the
sum of their per-source scores.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import Ranker, TrainData, binarise, usable
from spark_jobs.scoring.rankers.content import PairParts
from spark_jobs.scoring.rankers.split import COLD_MIN_ITEMS, Split, temporal_split

PARAMETERS: Mapping[str, object] = {
    "objective": "lambdarank",
    "lambdarank_truncation_level": 20,
    "learning_rate": 0.1,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
"""LightGBM parameters of the ranking model (the thread count and seed are added per fit)."""
ROUNDS = 100
"""Boosting rounds."""
MAX_TRAINING_USERS = 12000
"""Users whose latest items are held out and whose candidates train the model (a random sample
when there are more)."""
ABSENT_RANK = 1e6
"""``s_rank`` of a candidate source ``s`` does not list: past any list's end, whatever the
sources' depth, so a model learnt at one depth reads the candidates of another alike (its
trees split between ranks, and an absent item stays beyond every split)."""

Lists = Mapping[str, tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class CandidateTable:
    """The candidates of a batch of users, sorted by user position then item.

    Attributes:
        positions: Each candidate's user position in the batch.
        items: Each candidate's item row.
        features: ``(candidates, len(names))`` float32.
        names: The feature names, in column order.

    """

    positions: np.ndarray
    items: np.ndarray
    features: np.ndarray
    names: tuple[str, ...]

    def column(self, name: str) -> np.ndarray:
        """One feature's column."""
        return self.features[:, self.names.index(name)]


def _listed(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions, items and ranks (from 1) of a source's listed items."""
    positions, ranks = np.nonzero(ids >= 0)
    return positions, ids[positions, ranks], ranks + 1


def candidate_table(
    lists: Lists, rows: sp.csr_matrix, train: TrainData, parts: PairParts | None = None
) -> CandidateTable:
    """Describe every candidate of the sources' lists (module docstring).

    Args:
        lists: Per source, its ``(users, depth)`` item rows and scores.
        rows: The users' item rows.
        train: What the sources were fitted on (for the owner counts).
        parts: Per-pair score parts of a source (:func:`source_lists`), if any.

    """
    n_items = train.n_items
    listed = [_listed(ids) for ids, _ in lists.values()]
    keys = np.unique(np.concatenate([p.astype(np.int64) * n_items + i for p, i, _ in listed]))
    positions, items = np.divmod(keys, n_items)
    columns: dict[str, np.ndarray] = {}
    for (name, (_, scores)), (at_positions, at_items, ranks) in zip(
        lists.items(), listed, strict=True
    ):
        at = np.searchsorted(keys, at_positions.astype(np.int64) * n_items + at_items)
        clean = np.where(np.isfinite(scores), np.maximum(scores, 0.0), 0.0)
        best = clean.max(axis=1, initial=0.0)[at_positions]
        own = clean[at_positions, ranks - 1]
        score, rank = np.zeros(len(keys)), np.full(len(keys), ABSENT_RANK)
        score[at] = np.divide(own, best, out=np.zeros(len(own)), where=best > 0)
        rank[at] = ranks
        columns[f"{name}_score"], columns[f"{name}_rank"] = score, rank
    columns["popularity"] = np.log1p(train.owners[items])
    columns["size"] = np.log1p(np.diff(binarise(rows).indptr))[positions]
    if parts is not None and len(items):
        columns.update(parts(positions, items))
    names = tuple(columns)
    features = np.empty((len(items), len(names)), dtype=np.float32)
    for column, name in enumerate(names):
        features[:, column] = columns[name]
    return CandidateTable(positions, items, features, names)


def score_sum(table: CandidateTable, sources: Sequence[str]) -> np.ndarray:
    """The fallback ranking: the sum of each candidate's per-source scores."""
    return sum((table.column(f"{s}_score") for s in sources), np.zeros(len(table.items)))


def top_candidates(
    table: CandidateTable, scores: np.ndarray, n_users: int, depth: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each user's ``depth`` best candidates by ``scores``, as ``exp(score - best)`` in (0, 1].

    Ties go to the lower item: the table is sorted by position then item, so a stable sort by
    score then a stable sort by position orders each user's candidates by score then item
    (two sorts, half the time of a three-key lexsort).

    Returns:
        ``(n_users, depth)`` item rows and scores, best first, -1 / nan padded.

    """
    by_score = np.argsort(-scores, kind="stable")
    order = by_score[np.argsort(table.positions[by_score], kind="stable")]
    positions, items, ranked = table.positions[order], table.items[order], scores[order]
    starts = np.searchsorted(positions, np.arange(n_users))
    rank = np.arange(len(order)) - starts[positions]
    keep = rank < depth
    best = np.full(n_users, np.nan)
    best[positions[rank == 0]] = ranked[rank == 0]
    ids = np.full((n_users, depth), -1, dtype=np.int64)
    values = np.full((n_users, depth), np.nan)
    ids[positions[keep], rank[keep]] = items[keep]
    values[positions[keep], rank[keep]] = np.exp(ranked[keep] - best[positions[keep]])
    return ids, values


def holdout_split(
    train: TrainData, limit: int | None = None, seed: int = 0
) -> tuple[TrainData, Split]:
    """The training data split again: what validation sources fit on, and the held-out part.

    The activity is cut per user at the validation split's cuts, as the evaluation cuts it
    (:meth:`~.split.Split.cuts`), by the time of each pair's first event.

    Args:
        train: The training data.
        limit: Hold out the items of at most this many users, drawn at random among those with
            enough items to (:data:`~.split.COLD_MIN_ITEMS`); every other user's items stay in
            the validation data, as they are when the model serves. None: every such user.
        seed: Seed of that draw.

    """
    users = None
    if limit is not None:
        able = np.flatnonzero(np.diff(train.user_items.indptr) >= COLD_MIN_ITEMS)
        users = sample_users(able, limit, np.random.default_rng(seed))
    split = temporal_split(train.user_items, train.added_at, users=users)
    activity, activity_at = train.activity_before(split.cuts())
    fitted = TrainData(
        split.train, split.train_added_at, split.now, train.content, activity, activity_at
    )
    return fitted, split


def sample_users(users: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``limit`` of the sorted ``users``, at random, sorted."""
    if len(users) <= limit:
        return users
    return np.sort(rng.choice(users, limit, replace=False))


def source_lists(
    sources: Sequence[Ranker],
    users: np.ndarray,
    depth: int,
    user_items: sp.csr_matrix | None = None,
) -> tuple[Lists, PairParts | None]:
    """Every source's top ``depth`` of the users (their ``user_items`` folded in, if given).

    Returns:
        The lists by source name, and the per-pair score parts of the first source that gives
        them with its lists (content's :meth:`~.content.ContentBased.recommend_with_parts`).

    """
    lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    parts = None
    for source in sources:
        with_parts = getattr(source, "recommend_with_parts", None)
        if with_parts is not None and parts is None:
            lists[source.name], parts = with_parts(users, depth, user_items)
        else:
            lists[source.name] = source.recommend(users, depth, user_items)
    return lists, parts


def learn_ranker(
    make_sources: Callable[[], Sequence[Ranker]],
    train: TrainData,
    depth: int,
    *,
    seed: int = 0,
    threads: int = 2,
) -> lgb.Booster | None:
    """Learn the ranking model on a validation split of ``train`` (module docstring).

    Args:
        make_sources: Builds fresh, unfitted source rankers (the hybrid's own).
        train: The training data; its own held-out part is never seen here.
        depth: Items per source list.
        seed: Seed of the user sample and of LightGBM.
        threads: LightGBM threads.

    Returns:
        The model, or None when there is no candidate or no held-out item is among them.

    """
    validation, split = holdout_split(train, MAX_TRAINING_USERS, seed)
    sources = usable(make_sources(), train)
    for source in sources:
        source.fit(validation)
    users = np.union1d(split.test_users, split.cold_users)
    if len(users) == 0:
        return None
    rows = sp.csr_matrix(validation.user_items[users])
    lists, parts = source_lists(sources, users, depth)
    table = candidate_table(lists, rows, validation, parts)
    if len(table.positions) == 0:
        return None
    held_out = sp.csr_matrix(split.test[users])
    labels = np.asarray(held_out[table.positions, table.items]).ravel() > 0
    useful = np.bincount(table.positions, labels, minlength=len(users)) > 0
    keep = useful[table.positions]
    if not keep.any():
        return None
    groups = np.bincount(table.positions[keep], minlength=len(users))
    data = lgb.Dataset(
        table.features[keep],
        labels[keep].astype(np.int32),
        group=groups[groups > 0],
        feature_name=list(table.names),
        free_raw_data=True,
    )
    parameters = {**PARAMETERS, "num_threads": threads, "seed": seed}
    return lgb.train(parameters, data, num_boost_round=ROUNDS)
