"""The production ranker: candidates from several sources, one tuned fusion, then calibration.

Sources (each a ranker of its own): the social neighbours (the mission's taste neighbours,
:class:`~.neighbours.NeighbourTopN`), item-to-item (:class:`~.ease.EASE` or
:class:`~.itemknn.ItemKNN`), matrix factorisation (:class:`~.implicit_mf.IALS`), content
(:class:`~.content.ContentBased`) and popularity (:class:`~.trending.Trending`). Each gives its
top ``depth`` items per user; a candidate's fused score is ``sum_s w_s * x_s`` where ``x_s`` is
its score under source ``s`` divided by the user's best score there (0 when the source does
not list it). Users with few items (``cold_items`` or fewer) get their own weights, so cold
start leans on content, activity and popularity. The weights and the calibration strength are
chosen on a validation split of the training data by :func:`~.fusion.tune` (or given).
Finally Steck's calibrated re-rank (:func:`~.calibration.calibrate`) picks the list from the
fused candidates. Owned items are never returned; a user's first adds are folded in through
each source's own fold-in (``user_items``), without refitting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import Ranker, TrainData, binarise
from spark_jobs.scoring.rankers.calibration import calibrate, genre_distribution

Weights = Mapping[str, float]


@dataclass(frozen=True)
class FusionParameters:
    """What the tuning chooses: source weights for warm and cold users, calibration strength."""

    warm: Weights
    cold: Weights
    calibration: float = 0.0
    cold_items: int = 3


@dataclass
class Candidates:
    """Every source's lists for a set of users: item rows and scores, ``(users, depth)`` each."""

    lists: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def normalised(self, source: str) -> tuple[np.ndarray, np.ndarray]:
        """A source's items and scores divided by each user's best (negative scores: 0)."""
        ids, scores = self.lists[source]
        clean = np.where((ids >= 0) & np.isfinite(scores), scores, 0.0).astype(np.float64)
        clean = np.maximum(clean, 0.0)
        best = clean.max(axis=1, keepdims=True, initial=0.0)
        return ids, np.divide(clean, best, out=np.zeros_like(clean), where=best > 0)


def fuse(
    candidates: Candidates,
    weights: Sequence[Weights],
    n_items: int,
    depth: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``depth`` best candidates of each user by weighted normalised score.

    Args:
        candidates: The sources' lists.
        weights: Per user, the weight of each source.
        n_items: Number of item rows.
        depth: How many fused candidates to keep.

    Returns:
        ``(users, depth)`` item rows and fused scores, best first, -1 / nan padded.

    """
    users = len(weights)
    rows, columns, values = [], [], []
    for source in candidates.lists:
        ids, scores = candidates.normalised(source)
        per_user = np.array([w.get(source, 0.0) for w in weights], dtype=np.float64)
        keep = (ids >= 0) & (scores > 0) & (per_user[:, None] > 0)
        rows.append(np.nonzero(keep)[0])
        columns.append(ids[keep])
        values.append((scores * per_user[:, None])[keep])
    fused = sp.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
        shape=(users, n_items),
    )
    fused.sum_duplicates()
    return _top(fused, depth)


def _top(matrix: sp.csr_matrix, depth: int) -> tuple[np.ndarray, np.ndarray]:
    users = matrix.shape[0]
    rows = np.repeat(np.arange(users), np.diff(matrix.indptr))
    order = np.lexsort((matrix.indices, -matrix.data, rows))
    rank = np.arange(len(order)) - matrix.indptr[rows[order]]
    keep = rank < depth
    ids = np.full((users, depth), -1, dtype=np.int64)
    scores = np.full((users, depth), np.nan)
    ids[rows[order][keep], rank[keep]] = matrix.indices[order][keep]
    scores[rows[order][keep], rank[keep]] = matrix.data[order][keep]
    return ids, scores


class Hybrid(Ranker):
    """Several sources fused by tuned weights, then a calibrated re-rank (module docstring).

    Args:
        sources: The source rankers (fitted by :meth:`fit`).
        parameters: Fusion weights and calibration strength.
        depth: Items taken from each source, and fused candidates kept for the re-rank.

    """

    name = "hybrid"

    def __init__(
        self, sources: Sequence[Ranker], parameters: FusionParameters, depth: int = 100
    ) -> None:
        self.sources = list(sources)
        self.parameters = parameters
        self.depth = depth

    def _fit(self, train: TrainData) -> None:
        self.sources = [s for s in self.sources if not s.needs_content or train.content]
        for source in self.sources:
            source.fit(train)

    def candidates(self, users: np.ndarray, user_items: sp.csr_matrix | None) -> Candidates:
        """Every source's top ``depth`` for the users."""
        found = Candidates()
        for source in self.sources:
            found.lists[source.name] = source.recommend(users, self.depth, user_items)
        return found

    def user_weights(self, rows: sp.csr_matrix) -> list[Weights]:
        """Each user's source weights: the cold ones for users with few items."""
        sizes = np.diff(binarise(rows).indptr)
        cold = self.parameters.cold_items
        return [self.parameters.cold if size <= cold else self.parameters.warm for size in sizes]

    def rerank(
        self,
        fused: tuple[np.ndarray, np.ndarray],
        rows: sp.csr_matrix,
        n: int,
        calibration: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The top ``n`` of the fused candidates, calibrated when asked and possible."""
        ids, scores = fused
        content = self.train.content
        if calibration <= 0 or content is None:
            return ids[:, :n], scores[:, :n].astype(np.float32)
        p = genre_distribution(rows, content.genres)
        return calibrate(ids, scores, p, content.genres, n, calibration)

    def recommend(
        self, users: np.ndarray, n: int, user_items: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Fused, calibrated top-n (see :meth:`Ranker.recommend`)."""
        users = np.asarray(users, dtype=np.int64)
        rows = self.rows(users, user_items)
        fused = fuse(
            self.candidates(users, user_items),
            self.user_weights(rows),
            self.train.n_items,
            self.depth,
        )
        return self.rerank(fused, rows, n, self.parameters.calibration)
