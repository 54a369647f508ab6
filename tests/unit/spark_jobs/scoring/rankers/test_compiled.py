import lightgbm as lgb
import numpy as np

from spark_jobs.scoring.rankers.compiled import CompiledModel


def ranking_model(rows: np.ndarray, labels: np.ndarray) -> lgb.Booster:
    data = lgb.Dataset(rows, labels, group=[10] * (len(rows) // 10))
    parameters = {"objective": "lambdarank", "verbose": -1, "min_data_in_leaf": 2, "seed": 0}
    return lgb.train(parameters, data, num_boost_round=5)


def test_the_compiled_model_scores_as_lightgbm_does():
    rng = np.random.default_rng(0)
    rows = rng.random((200, 4)).astype(np.float32)
    booster = ranking_model(rows, (rows[:, 0] > 0.5).astype(np.int32))
    fresh = rng.random((50, 4)).astype(np.float32)
    compiled = CompiledModel(booster)
    for threads in (1, 2):
        np.testing.assert_allclose(
            compiled.predict(fresh, threads), booster.predict(fresh), rtol=0, atol=1e-12
        )


def test_a_feature_the_trees_split_on_moves_the_score_as_it_does_in_lightgbm():
    rows = np.tile(np.linspace(0, 1, 10, dtype=np.float32)[:, None], (20, 2))
    booster = ranking_model(rows, (rows[:, 0] > 0.5).astype(np.int32))
    compiled = CompiledModel(booster)
    low, high = compiled.predict(np.array([[0.1, 0.1], [0.9, 0.9]], dtype=np.float32), 1)
    assert high > low


def test_no_rows_no_scores():
    rows = np.random.default_rng(1).random((100, 3))
    compiled = CompiledModel(ranking_model(rows, (rows[:, 1] > 0.5).astype(np.int32)))
    assert compiled.predict(np.zeros((0, 3), dtype=np.float32), 2).shape == (0,)
