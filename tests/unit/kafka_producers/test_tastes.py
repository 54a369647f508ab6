"""Hidden tastes: 1-3 genres per user with Dirichlet weights, atoms aimed at sampler buckets."""

import numpy as np
import pytest

from kafka_producers.demo_catalog import demo_catalog
from kafka_producers.sampler import ReleaseSampler
from kafka_producers.tastes import Tastes, draw_tastes


@pytest.fixture(scope="module")
def sampler() -> ReleaseSampler:
    return ReleaseSampler(demo_catalog(5000, seed=3), np.random.default_rng(0))


def test_tastes_are_sparse_dirichlet(sampler: ReleaseSampler) -> None:
    tastes = draw_tastes(2000, sampler, np.random.default_rng(1))
    weights = tastes.genre_weights
    assert len(tastes) == 2000
    assert np.allclose(weights.sum(axis=1), 1.0)
    assert np.allclose(tastes.atom_weight.sum(axis=1), 1.0)
    assert set((weights > 0).sum(axis=1).tolist()) == {1, 2, 3}
    assert ((tastes.atom_bucket >= 0) & (tastes.atom_bucket < sampler.n_buckets)).all()


def test_genre_atoms_stay_within_the_liked_genres(sampler: ReleaseSampler) -> None:
    tastes = draw_tastes(200, sampler, np.random.default_rng(2))
    for user in range(200):
        atoms = tastes.atom_bucket[user][tastes.atom_weight[user] > 0]
        genres = sampler.bucket_genre[atoms]
        assert set(genres[genres >= 0].tolist()) <= set(np.flatnonzero(tastes.genre_weights[user]))


def test_same_seed_same_tastes(sampler: ReleaseSampler) -> None:
    first = draw_tastes(100, sampler, np.random.default_rng(7))
    again = draw_tastes(100, sampler, np.random.default_rng(7))
    np.testing.assert_array_equal(first.genre_weights, again.genre_weights)
    np.testing.assert_array_equal(first.atom_bucket, again.atom_bucket)
    np.testing.assert_array_equal(first.atom_weight, again.atom_weight)


def test_draw_buckets_follows_the_cumulative_atom_weights() -> None:
    tastes = Tastes(
        genre_weights=np.zeros((2, 15)),
        atom_bucket=np.array([[3, 20, 21], [5, 6, 7]]),
        atom_weight=np.array([[0.5, 0.25, 0.25], [0.0, 1.0, 0.0]]),
        decade_affinity=np.ones((2, 1)),
        favourite_slot=np.zeros(2, dtype=np.int64),
        decade_spread=np.ones(2),
        loyalty=np.zeros(2),
    )
    users = np.array([0, 0, 0, 0, 1, 1])
    uniforms = np.array([0.0, 0.49, 0.6, 0.99, 0.01, 0.99])
    assert tastes.draw_buckets(users, uniforms).tolist() == [3, 3, 20, 21, 6, 6]


def test_describe_is_json_ready(sampler: ReleaseSampler) -> None:
    tastes = draw_tastes(10, sampler, np.random.default_rng(3))
    described = tastes.describe(0, sampler)
    assert sum(described["genres"].values()) == pytest.approx(1.0, abs=1e-5)
    assert sum(described["atoms"].values()) == pytest.approx(1.0, abs=1e-5)
    assert all(isinstance(name, str) for name in described["atoms"])
