"""The hourly run's own online check: how many of the releases users added were foreseen.

For every staged user scored before, the adds since that scoring are compared with the list
they were shown (``users_scored.recommendations`` as stored) and with the most popular releases
they did not own then (popularity counted over the pairs added before the earliest of those
scorings, so the adds being checked never make their own reference). The two shares
(hits / adds) are recorded in ``quality_runs``; the popularity share is the reference a
recommender has to beat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.recommend import find_sorted


@dataclass(frozen=True)
class OnlineCheck:
    """Adds since each user's last scoring, and how many the last lists had foreseen."""

    users: int
    adds: int
    hits: int
    popular_hits: int

    @property
    def share(self) -> float:
        """Share of the adds that were in the user's last list (nan without adds)."""
        return self.hits / self.adds if self.adds else float("nan")

    @property
    def popular_share(self) -> float:
        """Share of the adds that were among the most popular releases the user lacked."""
        return self.popular_hits / self.adds if self.adds else float("nan")

    def figures(self) -> dict[str, float]:
        """The figures written to ``quality_runs``."""
        return {
            "users": float(self.users),
            "adds": float(self.adds),
            "hit_share": self.share,
            "hit_share_most_popular": self.popular_share,
        }


def online_check(
    user_items: sp.csr_matrix,
    added_at: sp.csr_matrix,
    users: np.ndarray,
    scored_at: np.ndarray,
    recommended: list[np.ndarray],
    release_ids: np.ndarray,
    n: int = 10,
) -> OnlineCheck:
    """Compare each user's adds since their last scoring with their last list.

    Args:
        user_items: Owned pairs now, rows = users, columns = release rows.
        added_at: When each pair was added (seconds), same sparsity.
        users: The rows to check (the staged ones).
        scored_at: Per user row, when it was last scored (nan: never, not checked).
        recommended: Per user row, the release ids of the last list.
        release_ids: Release id of each column.
        n: Length of the most-popular reference list.

    Returns:
        The counts over the checked users.

    """
    seen = scored_at[users]
    seen = seen[~np.isnan(seen)]
    # Popularity as of the earliest checked scoring: none of the adds checked counts for it.
    before_all = added_at.data <= (seen.min() if len(seen) else -np.inf)
    owners = np.bincount(user_items.indices[before_all], minlength=user_items.shape[1])
    by_popularity = np.lexsort((np.arange(len(owners)), -owners))
    checked = adds = hits = popular_hits = 0
    for user in users.tolist():
        if np.isnan(scored_at[user]):
            continue
        start, end = user_items.indptr[user], user_items.indptr[user + 1]
        items, times = user_items.indices[start:end], added_at.data[start:end]
        new = items[times > scored_at[user]]
        checked += 1
        if len(new) == 0:
            continue
        listed, known = find_sorted(release_ids, recommended[user])
        before = items[times <= scored_at[user]]
        head = by_popularity[: n + len(before)]
        popular = head[~np.isin(head, before)][:n]
        adds += len(new)
        hits += int(np.isin(new, listed[known]).sum())
        popular_hits += int(np.isin(new, popular).sum())
    return OnlineCheck(checked, adds, hits, popular_hits)
