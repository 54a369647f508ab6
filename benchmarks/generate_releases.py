"""Write a big, realistic releases dump for benchmarks by recombining the real sample records.

Each generated release takes one real record as its base and swaps in, from other random real
records, the artists, title, labels, genres+styles (kept together so they stay coherent), country
and release date; it gets a new increasing id and, when it has one, a new master id. Element
order and all the other children (images, tracklist, videos, companies …) are the base's, so
record sizes and shapes follow the real data. Output is UTF-8 like the real dumps.

    .venv/bin/python benchmarks/generate_releases.py --count 500000 \
        --out benchmarks/out/releases-500k.xml.gz
"""

from __future__ import annotations

import gzip
import random
import re
import time
from pathlib import Path

import click
from lxml import etree

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "discorecs" / "app" / "data" / "releases-sample.xml.gz"
SWAPPED = ("artists", "title", "labels", "genres", "country", "released")
_MASTER = re.compile(rb"(<master_id[^>]*>)\d+(</master_id>)")


def load_records(sample: Path) -> list[list[tuple[str, bytes]]]:
    """Return each sample release as its list of (child tag, serialized child)."""
    records = []
    with gzip.open(sample, "rb") as handle:
        for _, elem in etree.iterparse(handle, events=("end",), tag="release"):
            children = [
                (child.tag, etree.tostring(child, encoding="utf-8", with_tail=False))
                for child in elem
            ]
            records.append(children)
            elem.clear(keep_tail=True)
    return records


def generate(
    count: int, out: Path, *, seed: int = 7, sample: Path = SAMPLE, level: int = 4
) -> None:
    """Write ``count`` releases to ``out`` (gzip when the name ends with ``.gz``)."""
    rng = random.Random(seed)
    records = load_records(sample)
    by_tag: dict[str, list[bytes]] = {}
    for record in records:
        parts = dict(record)
        parts["genres"] = parts.get("genres", b"") + parts.get("styles", b"")
        for tag in SWAPPED:
            if tag in parts:
                by_tag.setdefault(tag, []).append(parts[tag])
    out.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open(out, "wb", compresslevel=level) if out.suffix == ".gz" else out.open("wb")
    release_id = 0
    with opener as handle:
        handle.write(b"<releases>\n")
        block: list[bytes] = []
        for _ in range(count):
            release_id += rng.randint(1, 3)
            base = rng.choice(records)
            pieces = [b'<release id="%d" status="Accepted">' % release_id]
            for tag, fragment in base:
                if tag == "styles":
                    continue
                if tag in by_tag and rng.random() < 0.8:
                    fragment = rng.choice(by_tag[tag])
                elif tag == "genres":
                    fragment += dict(base).get("styles", b"")
                if tag == "master_id":
                    fragment = _MASTER.sub(rb"\g<1>%d\g<2>" % rng.randint(1, 3_000_000), fragment)
                pieces.append(fragment)
            pieces.append(b"</release>\n")
            block.append(b"".join(pieces))
            if len(block) >= 2000:
                handle.write(b"".join(block))
                block.clear()
        handle.write(b"".join(block))
        handle.write(b"</releases>\n")


@click.command()
@click.option("--count", type=click.IntRange(min=1), required=True, help="Releases to write.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--level", type=click.IntRange(1, 9), default=4, show_default=True, help="gzip level."
)
def main(count: int, out: Path, seed: int, level: int) -> None:
    """Generate a releases dump of COUNT recombined real records."""
    start = time.monotonic()
    generate(count, out, seed=seed, level=level)
    seconds = time.monotonic() - start
    click.echo(f"wrote {out} releases={count} bytes={out.stat().st_size} seconds={seconds:.1f}")


if __name__ == "__main__":
    main()
