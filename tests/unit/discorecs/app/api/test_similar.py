"""Release likeness: artists, then labels, then styles and genres; placeholders say nothing."""

from collections.abc import Iterable
from types import SimpleNamespace

from discorecs.app.api.similar import jaccard, likeness, meaningful, rank_likeness


def release(
    release_id: int,
    artists: Iterable[str] = (),
    labels: Iterable[str] = (),
    styles: Iterable[str] = (),
    genres: Iterable[str] = ("Rock",),
) -> SimpleNamespace:
    return SimpleNamespace(
        release_id=release_id,
        artists=list(artists),
        labels=list(labels),
        styles=set(styles),
        genres=set(genres),
    )


TARGET = release(1, ["Wire"], ["Harvest"], ["Punk", "Post-Punk"])


def test_jaccard_and_placeholders() -> None:
    assert jaccard({"a", "b"}, {"b", "c"}) == 1 / 3
    assert jaccard((), ()) == 0.0
    assert meaningful(["Various", "Not On Label (Wire)", "Wire"]) == ["Wire"]
    assert meaningful(None) == []


def test_a_shared_artist_beats_a_shared_label_beats_shared_styles() -> None:
    same_artist = release(2, ["Wire"], ["Pink Flag"], ["Art Rock"])
    same_label = release(3, ["Syd Barrett"], ["Harvest"], ["Psychedelic"])
    same_styles = release(4, ["Magazine"], ["Virgin"], ["Punk", "Post-Punk"])
    ranked = rank_likeness(TARGET, [same_styles, same_label, same_artist, TARGET], 10)
    assert [x.release_id for x in ranked] == [2, 3, 4]
    assert ranked[0].reason == "same artist: Wire"
    assert ranked[1].reason == "same label: Harvest"
    assert ranked[2].reason == "shares styles: Post-Punk, Punk"


def test_nothing_in_common_is_not_similar_and_n_is_respected() -> None:
    stranger = release(5, ["Miles Davis"], ["Columbia"], ["Modal"], genres=("Jazz",))
    assert likeness(TARGET, stranger) is None
    only_genre = likeness(TARGET, release(6, ["X"], ["Y"], ["Glam"]))
    assert only_genre is not None and only_genre.reason == "also Rock"
    many = [release(10 + i, ["Wire"]) for i in range(5)]
    assert [x.release_id for x in rank_likeness(TARGET, many, 2)] == [10, 11]
