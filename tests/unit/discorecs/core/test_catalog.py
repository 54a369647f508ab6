"""The release catalogue: known genres only, names numbered per release."""

import json
from pathlib import Path

import pytest

from discorecs.core.catalog import CatalogError, ReleaseCatalog, Tags, load_jsonl


def names(tags: Tags, release: int) -> list[str]:
    return [tags.names[j] for j in tags.idx[tags.ptr[release] : tags.ptr[release + 1]]]


def test_catalog_from_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "releases.jsonl"
    rows = [
        {
            "release_id": 5,
            "genres": ["Rock", "Pop"],
            "styles": ["Punk"],
            "artists": [{"name": "The Band", "anv": None}],
            "labels": [{"name": "Label One", "catno": "L1"}],
            "year": 1999,
        },
        {"release_id": 6, "genres": ["Unknown genre"], "styles": []},
        {"release_id": 7, "genres": ["Jazz"], "styles": None},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    catalog = load_jsonl(path)
    assert len(catalog) == 2
    assert catalog.release_ids.tolist() == [5, 7]
    tags = (catalog.genres, catalog.styles, catalog.artists, catalog.labels)
    assert [[names(t, 0) for t in tags], [names(t, 1) for t in tags]] == [
        [["Pop", "Rock"], ["Punk"], ["The Band"], ["Label One"]],
        [["Jazz"], [], [], []],
    ]
    assert catalog.years.tolist() == [1999, 0]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"release_id": 1, "genres": ["Rock"]}\n{"release_id": 2, "gen', "line 2: bad JSON: "),
        ('{"release_id": 1, "genres": ["Rock"]}\n\n[1, 2]\n', "line 3: not a release"),
        ('{"genres": ["Rock"]}\n', "line 1: not a release (KeyError('release_id'))"),
        ('{"release_id": "7", "genres": ["Rock"]}\n', "release_id '7' is not a positive"),
        ('{"release_id": 7, "genres": ["Unknown"]}\n', "no release with a known genre in the file"),
        ("", "no release with a known genre in the file"),
    ],
)
def test_a_bad_catalogue_names_its_line(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "releases.jsonl"
    path.write_text(text)
    with pytest.raises(CatalogError, match=rf"^{path}: .*") as raised:
        load_jsonl(path)
    assert error in str(raised.value) and "\n" not in str(raised.value)


def test_names_are_numbered_once_and_kept_in_credit_order() -> None:
    catalog = ReleaseCatalog.from_records(
        [
            (1, ["Rock"], ["Punk", "Punk", ""], ["B", "A"]),
            (2, ["Rock", "Polka"], ["Dub", "Punk"], ["A"]),
        ]
    )
    assert catalog.styles.names == ("Punk", "Dub")
    assert catalog.styles.counts().tolist() == [1, 2]
    assert catalog.artists.names == ("B", "A")
    assert [names(catalog.artists, r) for r in (0, 1)] == [["B", "A"], ["A"]]
    assert [names(catalog.genres, r) for r in (0, 1)] == [["Rock"], ["Rock"]]
    assert len(ReleaseCatalog.from_records([])) == 0
