"""Sinks: the parts' receipts, taken in order by the sink."""

import io
import json

from discogs_parser import ReleaseReader
from discogs_parser.sinks import JsonlSink, ListSink
from tests.support import SAMPLE


def test_jsonl_part_renders_lines_the_sink_writes() -> None:
    releases = list(ReleaseReader(SAMPLE))[:3]
    out = io.StringIO()
    sink = JsonlSink(out)
    part = sink.open()
    sink.accept(part.write(0, releases[:2]))
    sink.accept(part.write(1, releases[2:]))
    part.commit(1)
    sink.finish([part.close()])
    lines = out.getvalue().splitlines()
    assert [json.loads(line)["release_id"] for line in lines] == [r.release_id for r in releases]
    assert json.loads(lines[0]) == json.loads(json.dumps(releases[0].to_json()))


def test_list_sink_keeps_the_releases_in_order() -> None:
    releases = list(ReleaseReader(SAMPLE))[:3]
    sink = ListSink()
    part = sink.open()
    sink.accept(part.write(0, releases))
    assert sink.releases == releases
