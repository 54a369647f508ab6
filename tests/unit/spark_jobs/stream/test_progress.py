"""How far the stream got: committed offsets from its checkpoint, lag, logged batch metrics."""

import json
from pathlib import Path

from discorecs.core.settings import Settings
from spark_jobs.stream.progress import (
    MetricsLog,
    append_metrics,
    checkpoint_dir,
    committed_batch,
    committed_offsets,
    lag,
    metrics_path,
    read_metrics,
)


def write_offsets(checkpoint: Path, batch_id: int, *sources: dict) -> None:
    """An ``offsets/<id>`` file: version, batch metadata, then one JSON line per source."""
    lines = ["v1", json.dumps({"batchWatermarkMs": 0, "batchTimestampMs": 1, "conf": {}})]
    lines += [json.dumps(source) for source in sources]
    (checkpoint / "offsets").mkdir(parents=True, exist_ok=True)
    (checkpoint / "offsets" / str(batch_id)).write_text("\n".join(lines))


def write_commit(checkpoint: Path, batch_id: int) -> None:
    (checkpoint / "commits").mkdir(parents=True, exist_ok=True)
    (checkpoint / "commits" / str(batch_id)).write_text('v1\n{"nextBatchWatermarkMs":0}')
    (checkpoint / "commits" / f".{batch_id}.crc").write_bytes(b"\0")


def test_no_commit_means_no_offsets(tmp_path: Path) -> None:
    assert committed_offsets(tmp_path) == {}
    write_offsets(tmp_path, 0, {"p.users": {"0": 5}})
    (tmp_path / "commits").mkdir()
    assert committed_offsets(tmp_path) == {}


def test_the_newest_committed_batch_wins(tmp_path: Path) -> None:
    write_offsets(tmp_path, 9, {"p.users": {"0": 1}})
    write_offsets(tmp_path, 10, {"p.users": {"0": 5}, "p.collections": {"0": 7, "1": 3}})
    write_offsets(tmp_path, 11, {"p.users": {"0": 99}})
    write_commit(tmp_path, 9)
    write_commit(tmp_path, 10)
    assert committed_offsets(tmp_path) == {
        ("p.users", 0): 5,
        ("p.collections", 0): 7,
        ("p.collections", 1): 3,
    }


def test_the_last_committed_batch_is_the_highest_commit(tmp_path: Path) -> None:
    assert committed_batch(tmp_path) is None
    for batch_id in (8, 10, 9):
        write_commit(tmp_path, batch_id)
    write_offsets(tmp_path, 11, {"p.users": {"0": 99}})
    assert committed_batch(tmp_path) == 10


def test_every_source_line_is_read(tmp_path: Path) -> None:
    write_offsets(tmp_path, 0, {"a": {"0": 1}}, {"b": {"2": 4}})
    write_commit(tmp_path, 0)
    assert committed_offsets(tmp_path) == {("a", 0): 1, ("b", 2): 4}


def test_lag_counts_uncommitted_records() -> None:
    committed = {("t", 0): 5, ("t", 1): 10, ("t", 3): 9}
    ends = {("t", 0): 8, ("t", 1): 10, ("t", 2): 4, ("t", 3): 7}
    assert lag(committed, ends) == 3 + 0 + 4 + 0
    assert lag({}, {}) == 0


def test_read_metrics_keeps_the_last_line_of_each_batch(tmp_path: Path) -> None:
    settings = Settings(cluster_dir=tmp_path, keyspace="ks")
    assert read_metrics(settings) == []
    path = metrics_path(settings)
    assert path == tmp_path / "metrics" / "stream-ks.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(
        '{"batch_id": 1, "rows_in": 10}\n'
        '{"batch_id": 0, "rows_in": 5}\n'
        '{"batch_id": 1, "rows_in": 12}\n'
        '{"batch_id": 2, "rows_'
    )
    assert read_metrics(settings) == [
        {"batch_id": 0, "rows_in": 5},
        {"batch_id": 1, "rows_in": 12},
    ]


def test_the_metrics_log_reads_only_what_was_appended(tmp_path: Path) -> None:
    path = tmp_path / "stream-ks.jsonl"
    log = MetricsLog(path)
    assert log.read() == []
    path.write_text('{"batch_id": 0, "rows_in": 5}\n{"batch_id": 1, "rows_')
    assert log.read() == [{"batch_id": 0, "rows_in": 5}]
    with path.open("a") as appending:
        appending.write('in": 7}\n{"batch_id": 1, "rows_in": 8}\n')  # batch 1 replayed
    assert log.read() == [{"batch_id": 0, "rows_in": 5}, {"batch_id": 1, "rows_in": 8}]
    path.write_text('{"batch_id": 4, "rows_in": 1}\n')  # a shorter file: read from its start
    assert log.read() == [{"batch_id": 4, "rows_in": 1}]
    replaced = tmp_path / "new.jsonl"
    replaced.write_text('{"batch_id": 7, "rows_in": 2}\n' * 3)
    replaced.replace(path)  # another file in its place: read from its start
    assert log.read() == [{"batch_id": 7, "rows_in": 2}]
    path.unlink()
    assert log.read() == []


def test_the_metrics_log_keeps_the_newest_and_counts_them_all(tmp_path: Path) -> None:
    path = tmp_path / "stream-ks.jsonl"
    log = MetricsLog(path, keep=2)

    def line(batch_id: int, dead_letters: int) -> str:
        return json.dumps({"batch_id": batch_id, "dead_letters": dead_letters}) + "\n"

    path.write_text(line(0, 1) + line(1, 2) + line(2, 4) + line(2, 4))  # batch 2 replayed
    assert [b["batch_id"] for b in log.read()] == [1, 2]
    assert (log.total, log.dead_letters) == (3, 7)
    with path.open("a") as appending:  # the checkpoint reset: ids from 0 again, newest last
        appending.write(line(0, 8) + line(1, 16))
    assert [b["dead_letters"] for b in log.read()] == [8, 16]
    assert (log.total, log.dead_letters) == (5, 31)


def test_a_full_metrics_file_is_moved_aside_before_the_next_line(tmp_path: Path) -> None:
    path = tmp_path / "stream-ks.jsonl"
    for batch_id in range(3):
        append_metrics(path, json.dumps({"batch_id": batch_id}), max_bytes=30)
    assert path.read_text() == '{"batch_id": 2}\n'
    assert (tmp_path / "stream-ks.jsonl.1").read_text() == '{"batch_id": 0}\n{"batch_id": 1}\n'


def test_checkpoint_dir_is_per_keyspace() -> None:
    settings = Settings(cluster_dir=Path("/c"), keyspace="ks")
    assert checkpoint_dir(settings) == Path("/c/checkpoints/ks/events")
