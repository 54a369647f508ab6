import lightgbm as lgb
import numpy as np
import scipy.sparse as sp

from spark_jobs.scoring.rankers.base import TrainData
from spark_jobs.scoring.rankers.content import ContentBased
from spark_jobs.scoring.rankers.hybrid import Hybrid
from spark_jobs.scoring.rankers.learned import learn_ranker
from spark_jobs.scoring.rankers.popular import MostPopular
from tests.unit.spark_jobs.scoring.rankers.worlds import group_items, train_data, two_groups


def sources():
    return [MostPopular(), ContentBased()]


def fitted(train: TrainData, calibration: float = 0.0) -> Hybrid:
    hybrid = Hybrid(sources(), sources, calibration, depth=12, rerank_depth=12)
    hybrid.fit(train)
    return hybrid


def test_lists_stay_in_the_user_s_world_and_never_hold_an_owned_item():
    train = two_groups()
    hybrid = fitted(train)
    assert hybrid.model is not None
    users = np.arange(train.n_users)
    ids, scores = hybrid.recommend(users, 5)
    for user, row in zip(users, ids, strict=True):
        owned = set(train.user_items[user].indices)
        assert set(row[:3].tolist()) <= group_items(int(user)) - owned
        assert not owned & set(row.tolist())
    assert np.all(np.diff(scores, axis=1)[np.isfinite(np.diff(scores, axis=1))] <= 0)


def test_first_adds_fold_in_without_refitting():
    hybrid = fitted(two_groups())
    newcomer = sp.csr_matrix(([1.0, 1.0], ([0, 0], [12, 13])), shape=(1, 24))
    ids, _ = hybrid.recommend(np.array([0]), 3, newcomer)
    assert set(ids[0].tolist()) <= group_items(20) - {12, 13}


def test_without_a_model_candidates_are_ranked_by_their_summed_scores():
    tiny = train_data({0: [0], 1: [1], 2: [1]}, (3, 3))
    hybrid = Hybrid([MostPopular()], lambda: [MostPopular()], 0.0, depth=3)
    hybrid.fit(tiny)
    assert hybrid.model is None
    ids, _ = hybrid.recommend(np.array([0]), 2)
    assert ids.tolist() == [[1, -1]], "most popular lists only owned items"


def test_a_user_without_items_gets_the_sources_summed_order():
    train = two_groups()
    hybrid = fitted(train)
    nobody = sp.csr_matrix((1, train.n_items))
    ids, _ = hybrid.recommend(np.array([0]), 5, nobody)
    popular = MostPopular()
    popular.fit(train)
    expected, _ = popular.recommend(np.array([0]), 5, nobody)
    assert ids.tolist() == expected.tolist()


def test_users_without_any_candidate_get_empty_lists():
    train = two_groups()
    hybrid = Hybrid([ContentBased()], lambda: [ContentBased()], 0.0, depth=12)
    hybrid.fit(train)
    assert hybrid.model is not None
    ids, _ = hybrid.recommend(np.array([0]), 3, sp.csr_matrix((1, train.n_items)))
    assert ids.tolist() == [[-1, -1, -1]]


def test_a_stored_model_with_the_same_features_is_reused_without_learning():
    train = two_groups()
    learnt = fitted(train)
    assert learnt.model is not None
    stored = lgb.Booster(model_str=learnt.model.model_to_string())

    def no_validation_sources():
        raise AssertionError("a reused model needs no validation fit")

    hybrid = Hybrid(sources(), no_validation_sources, 0.0, depth=12, model=stored)
    hybrid.fit(train)
    assert hybrid.reused and not learnt.reused
    users = np.arange(train.n_users)
    assert hybrid.recommend(users, 5)[0].tolist() == learnt.recommend(users, 5)[0].tolist()


def test_the_model_learnt_beside_the_sources_fit_is_the_one_learnt_alone():
    train = two_groups()
    hybrid = fitted(train)
    alone = learn_ranker(sources, train, 12)
    assert hybrid.model is not None and alone is not None
    assert hybrid.model.model_to_string() == alone.model_to_string()


def test_a_model_learnt_on_other_features_is_learnt_again():
    train = two_groups()
    other = Hybrid([MostPopular()], lambda: [MostPopular()], 0.0, depth=12)
    other.fit(train)
    assert other.model is not None
    hybrid = Hybrid(sources(), sources, 0.0, depth=12, model=other.model)
    hybrid.fit(train)
    assert not hybrid.reused and hybrid.model is not None and hybrid.model is not other.model
    assert tuple(hybrid.model.feature_name()) == hybrid.features()


def test_more_asked_than_candidates_kept_gives_n_columns_padded():
    train = two_groups()
    hybrid = fitted(train)  # 12 candidates kept, calibration 0
    ids, scores = hybrid.recommend(np.arange(train.n_users), 20)
    assert ids.shape == scores.shape == (train.n_users, 20)
    assert (ids[:, 12:] == -1).all() and np.isnan(scores[:, 12:]).all()
