"""The release catalogue: known genres only, names numbered per release, read back as records."""

import json
from pathlib import Path

from discorecs.core.catalog import Record, ReleaseCatalog, load_jsonl


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
    assert list(catalog.records()) == [
        Record(5, ["Pop", "Rock"], ["Punk"], ["The Band"], ["Label One"], 1999),
        Record(7, ["Jazz"], [], [], [], None),
    ]
    assert catalog.years.tolist() == [1999, 0]


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
    assert [r.artists for r in catalog.records()] == [["B", "A"], ["A"]]
    assert [r.genres for r in catalog.records()] == [["Rock"], ["Rock"]]
    assert len(ReleaseCatalog.from_records([])) == 0
