"""Opening dumps and cutting them into blocks of whole records."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from discogs_parser.source import Block, InputFailed, cut_blocks, newlines, open_dump
from tests.support import SAMPLE


def blocks_of(path: Path, size: int) -> list[Block]:
    with open_dump(path) as source:
        return list(cut_blocks(source, size))


def test_blocks_cover_the_file_and_end_after_a_record() -> None:
    xml = gzip.decompress(SAMPLE.read_bytes())
    blocks = blocks_of(SAMPLE, 50_000)
    assert len(blocks) > 10
    head = blocks[0].head
    assert head == b"<releases>\n" and {b.tail for b in blocks} == {b"</releases>"}
    assert head + b"".join(b.data for b in blocks) == xml
    assert [b.index for b in blocks] == list(range(len(blocks)))
    assert [b.last for b in blocks] == [False] * (len(blocks) - 1) + [True]
    for block in blocks[:-1]:
        assert block.data.lstrip().startswith(b"<release ")
        assert block.data.endswith(b"</release>")
        assert xml.count(b"\n", 0, xml.index(block.data)) + 1 == block.first_line
    assert blocks[-1].data.endswith(b"</releases>\n")
    assert blocks[-1].raw_position == SAMPLE.stat().st_size
    assert blocks[-1].xml_position == len(xml)


def test_file_line_maps_head_and_data_lines() -> None:
    block = Block(3, b"<?xml?>\n<releases>\n", b"</releases>", b"<release/>", 41, False, 0, 0)
    assert block.file_line(1) == 1 and block.file_line(2) == 2
    assert block.file_line(3) == 41 and block.file_line(5) == 43


@pytest.mark.parametrize(
    ("data", "count"),
    [(b"", 0), (b"no line feed", 0), (b"a\nb\r\n\n", 3), (b"\n" * 70_001, 70_001)],
)
def test_newlines_counts_line_feeds(data: bytes, count: int) -> None:
    assert newlines(data) == count


def test_a_record_longer_than_a_block_makes_a_longer_block(tmp_path: Path) -> None:
    path = tmp_path / "long.xml"
    record = b'<release id="1">' + b"x" * 5000 + b"</release>"
    path.write_bytes(b"<releases>" + record + b"<release/>" * 500 + b"</releases>")
    first, *rest = blocks_of(path, 1000)
    assert first.data.startswith(record) and first.data.endswith(b"</release>")
    assert rest and rest[-1].last


def test_no_record_is_one_last_block_without_head(tmp_path: Path) -> None:
    path = tmp_path / "empty.xml"
    path.write_bytes(b"<releases>\n</releases>\n")
    (block,) = blocks_of(path, 1000)
    assert block.last and block.head == b"" and block.data == path.read_bytes()


def test_another_dump_is_refused_at_its_root(tmp_path: Path) -> None:
    path = tmp_path / "masters.xml"
    path.write_bytes(b'<?xml version="1.0"?>\n<masters><master id="1"/></masters>' + b" " * 5000)
    with pytest.raises(InputFailed, match=r"^not a releases dump: its root element is <masters>"):
        blocks_of(path, 1000)


def test_a_document_with_no_record_early_enough_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("discogs_parser.source.HEAD_LIMIT", 4000)
    path = tmp_path / "padded.xml"
    path.write_bytes(b"<releases>" + b" " * 10_000 + b"<release/></releases>")
    with pytest.raises(InputFailed, match=r"^no <release> record in the first"):
        blocks_of(path, 1000)


def test_truncated_gzip_yields_the_whole_records_then_fails(tmp_path: Path) -> None:
    path = tmp_path / "truncated.xml.gz"
    path.write_bytes(SAMPLE.read_bytes()[:100_000])
    with open_dump(path) as source:
        blocks: list[Block] = []
        with pytest.raises(InputFailed) as failed:
            blocks.extend(cut_blocks(source, 1 << 20))
    (block,) = blocks
    assert block.data.endswith(b"</release>") and not block.last
    assert failed.value.raw_position == 100_000
    assert failed.value.xml_position > len(block.data)
