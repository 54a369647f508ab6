"""Release draws by bucket (genre, genre/style, artist, label) and decade, by popularity."""

from collections import Counter

import numpy as np
import pytest

from discorecs.core.catalog import ReleaseCatalog
from discorecs.core.genres import GENRE_INDEX, GENRES
from kafka_producers.sampler import ReleaseSampler

RECORDS = [
    (10, ["Rock"], ["Punk"], ["Ann"], ["L1"], 1977),
    (11, ["Rock", "Jazz"], ["Punk", "Fusion"], ["Ann"], ["L2"], 1985),
    (12, ["Jazz"], [], ["Bo"], ["L2"], None),
    (13, ["Jazz"], ["Fusion"], ["Bo"], ["L1"], 1972),
]
JAZZ = GENRE_INDEX["Jazz"]


@pytest.fixture(scope="module")
def sampler() -> ReleaseSampler:
    return ReleaseSampler(ReleaseCatalog.from_records(RECORDS), np.random.default_rng(0))


def bucket(sampler: ReleaseSampler, name: str) -> int:
    (found,) = [b for b in range(sampler.n_buckets) if sampler.bucket_name(b) == name]
    return found


def test_buckets_are_genres_pairs_artists_labels(sampler: ReleaseSampler) -> None:
    names = [sampler.bucket_name(b) for b in range(sampler.n_buckets)]
    assert names[: len(GENRES)] == list(GENRES)
    assert sorted(names[len(GENRES) :]) == [
        "Jazz/Fusion",
        "Jazz/Punk",
        "Rock/Fusion",
        "Rock/Punk",
        "artist:Ann",
        "artist:Bo",
        "label:L1",
        "label:L2",
    ]
    harmonic = np.array([1, 1 / 2, 1 / 3, 1 / 4])
    assert sorted(sampler.popularity) == pytest.approx(sorted(harmonic / harmonic.sum()))


def test_decade_slots_and_unknown_years(sampler: ReleaseSampler) -> None:
    assert sampler.decades.tolist() == [197, 198]
    assert sampler.release_slot.tolist() == [0, 1, 2, 0]
    assert sampler.bucket_mass.sum() > 0


def test_draws_stay_in_their_bucket(sampler: ReleaseSampler) -> None:
    rng = np.random.default_rng(1)
    n = 2000
    ones = np.ones((n, sampler.n_slots))

    def draw(b: int) -> set[int]:
        buckets = np.full(n, b)
        return set(sampler.draw(buckets, ones, rng.random(n), rng.random(n)).tolist())

    assert draw(JAZZ) == {1, 2, 3}
    assert draw(bucket(sampler, "Jazz/Fusion")) == {1, 3}
    assert draw(bucket(sampler, "artist:Bo")) == {2, 3}
    assert draw(bucket(sampler, "label:L1")) == {0, 3}


def test_affinity_picks_the_decade(sampler: ReleaseSampler) -> None:
    n = 500
    rng = np.random.default_rng(2)
    seventies = np.zeros((n, sampler.n_slots))
    seventies[:, 0] = 1.0
    drawn = sampler.draw(np.full(n, JAZZ), seventies, rng.random(n), rng.random(n))
    assert set(drawn.tolist()) == {3}


def test_draws_within_a_bucket_follow_popularity_times_affinity(
    sampler: ReleaseSampler,
) -> None:
    affinity = np.array([1.0, 0.5, 0.3])
    jazz = np.array([1, 2, 3])
    expected = sampler.popularity[jazz] * affinity[sampler.release_slot[jazz]]
    expected /= expected.sum()
    n = 40_000
    rng = np.random.default_rng(3)
    drawn = sampler.draw(np.full(n, JAZZ), np.tile(affinity, (n, 1)), rng.random(n), rng.random(n))
    counts = Counter(drawn.tolist())
    np.testing.assert_allclose([counts[r] / n for r in jazz], expected, atol=0.01)


def test_an_empty_catalogue_is_refused() -> None:
    with pytest.raises(ValueError):
        ReleaseSampler(ReleaseCatalog.from_records([]), np.random.default_rng(0))
