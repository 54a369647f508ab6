import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.activity import TIE_BREAK, RecentActivity
from spark_jobs.scoring.rankers.base import TrainData
from tests.unit.spark_jobs.scoring.rankers.worlds import train_data

# Owners of items 0-4: [2, 1, 0, 0, 1]; user 0 owns item 0.
OWNED = {0: [0], 1: [0, 1], 2: [4]}
# User 0 viewed item 0 (owned) once, items 1 and 4 once each, item 3 three times; user 1 none.
ACTIVITY = sp.csr_matrix(
    np.array([[1, 1, 0, 3, 1], [0, 0, 0, 0, 0], [0, 0, 2, 0, 0]], dtype=np.float32)
)


def fitted() -> RecentActivity:
    owned = train_data(OWNED, (3, 5))
    ranker = RecentActivity()
    ranker.fit(TrainData(owned.user_items, owned.added_at, owned.now, None, ACTIVITY))
    return ranker


def test_most_events_first_then_the_more_owned_never_an_owned_item() -> None:
    ids, scores = fitted().recommend(np.array([0, 1, 2]), 4)
    assert ids.tolist() == [[3, 1, 4, -1], [-1] * 4, [2, -1, -1, -1]]
    share = TIE_BREAK / 3.0
    np.testing.assert_allclose(scores[0, :3], [3.0, 1.0 + share, 1.0 + share], rtol=1e-6)
    assert scores[2, 0] == 2.0


def test_folded_in_items_are_left_out() -> None:
    rows = sp.csr_matrix(np.array([[1, 0, 0, 1, 0]], dtype=np.float32))
    ids, _ = fitted().recommend(np.array([0]), 3, rows)
    assert ids.tolist() == [[1, 4, -1]]


def test_no_activity_no_list() -> None:
    ranker = RecentActivity()
    ranker.fit(train_data(OWNED, (3, 5)))
    ids, _ = ranker.recommend(np.array([0]), 2)
    assert ids.tolist() == [[-1, -1]]
