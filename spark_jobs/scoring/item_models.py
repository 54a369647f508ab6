"""The hybrid's item-to-item source (EASE), kept on local disk between hourly runs.

Its fit learns from every collection (a Gram matrix of the most owned items, inverted), and what
it learns (item-item weights) moves slowly, so the hourly job fits it every
``scoring.item_model_hours`` and otherwise restores the last fit, its items mapped by release
id: releases gone leave the model, new ones stay out of it until the next fit (content and
trending reach them meanwhile). Users are not part of the model: each user's current collection
is scored, so an add counts at once. The file (``item_models.npz`` beside the run snapshot, no
pickle) is replaced atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from discorecs.core.files import read_arrays, write_arrays
from discorecs.core.logs import get_logger
from spark_jobs.scoring.rankers.base import Ranker, TrainData
from spark_jobs.scoring.rankers.ease import EASE
from spark_jobs.scoring.recommend import find_sorted

log = get_logger("scoring")

FILE_NAME = "item_models.npz"


def item_models(sources: Sequence[Ranker]) -> list[EASE]:
    """The item-to-item sources among ``sources``."""
    return [source for source in sources if isinstance(source, EASE)]


def save_item_models(
    folder: Path, models: Sequence[EASE], release_ids: np.ndarray, fitted_at: datetime
) -> None:
    """Save fitted item models with the release id of each of their item rows.

    Best effort: a write the system refuses is logged, and the next run fits them again.
    """
    arrays = {"release_ids": release_ids, "fitted_at": np.array(fitted_at.timestamp())}
    for model in models:
        arrays.update({f"{model.name}.{key}": value for key, value in model.export().items()})
    write_arrays(folder / FILE_NAME, arrays)


def restore_item_models(
    folder: Path,
    models: Sequence[EASE],
    train: TrainData,
    release_ids: np.ndarray,
    max_age_hours: float,
    now: datetime,
) -> bool:
    """Restore every one of ``models`` from the saved fit, if it is recent and complete.

    Args:
        folder: Where :func:`save_item_models` saved them.
        models: Unfitted sources, restored in place (fitted on ``train`` as far as
            :meth:`~.rankers.base.Ranker.fit` is concerned).
        train: The data they recommend from now.
        release_ids: The release id of each item row of ``train``.
        max_age_hours: The oldest fit to restore (0: none).
        now: This run's start.

    Returns:
        Whether they were restored (else none was touched; the reason is logged).

    """
    arrays = read_arrays(folder / FILE_NAME) if max_age_hours > 0 and models else None
    if arrays is None:
        return False
    fitted_at = datetime.fromtimestamp(float(arrays["fitted_at"]), UTC)
    learnt = {
        model.name: {
            key.partition(".")[2]: value
            for key, value in arrays.items()
            if key.startswith(f"{model.name}.")
        }
        for model in models
    }
    if (now - fitted_at).total_seconds() > max_age_hours * 3600 or not all(learnt.values()):
        log.info("item_models_refitted", fitted_at=fitted_at.isoformat())
        return False
    rows, known = find_sorted(release_ids, arrays["release_ids"])
    rows = np.where(known, rows, -1)
    for model in models:
        model.restore(train, learnt[model.name], rows)
    return True
