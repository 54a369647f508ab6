"""Pure parts of the streaming job: validation batches, latency quantiles, staging batches."""

import json
import subprocess
import sys
import time
from datetime import UTC, datetime

import pyarrow as pa

from kafka_producers import events
from spark_jobs.stream.micro_batch import latency_quantiles
from spark_jobs.stream.progress import STUCK_EXIT_CODE
from spark_jobs.stream.runner import BatchWatchdog
from spark_jobs.stream.validation import validate_batches, validated_schema

GOOD = {
    "schema_version": 1,
    "event_id": "0b6f2a8e-2a51-4c7e-9b1e-3f8f2f5f9a10",
    "event_time": "2026-01-31T12:00:00.123Z",
    "user_id": 7,
    "release_id": 42,
    "action": "add",
}


def kafka_batch(records: list[tuple[str, bytes]]) -> pa.RecordBatch:
    n = len(records)
    return pa.RecordBatch.from_arrays(
        [
            pa.array([topic for topic, _ in records], pa.string()),
            pa.array([0] * n, pa.int32()),
            pa.array(range(n), pa.int64()),
            pa.array([b"7"] * n, pa.binary()),
            pa.array([value for _, value in records], pa.binary()),
        ],
        names=["topic", "partition", "offset", "key", "value"],
    )


def test_validation_keeps_every_record_with_fields_or_reason() -> None:
    records = [
        ("p.collections", json.dumps(GOOD).encode()),
        ("p.collections", b"{not json"),
        ("p.activity", json.dumps(GOOD).encode()),
        ("p.collections", b"x" * (events.MAX_EVENT_BYTES + 1)),
    ]
    (out,) = list(validate_batches(iter([kafka_batch(records)])))
    assert out.schema.names == validated_schema().fieldNames()
    rows = out.to_pylist()
    assert [r["reason"] for r in rows] == [None, "bad_json", "missing_field:kind", "oversize"]
    assert [r["offset"] for r in rows] == [0, 1, 2, 3]
    assert rows[0]["user_id"] == 7 and rows[0]["release_id"] == 42 and rows[0]["action"] == "add"
    assert rows[0]["event_time"] == datetime(2026, 1, 31, 12, 0, 0, 123000, tzinfo=UTC)
    assert rows[1]["user_id"] is None and rows[1]["value"] == b"{not json"


def test_latency_quantiles_from_a_histogram() -> None:
    histogram = [(1000, 1), (1009, 99)]
    p50, p99 = latency_quantiles(histogram, now=1010.0)
    assert p50 == 500.0
    assert p99 == 9500.0
    assert latency_quantiles([], now=1.0) is None


def test_a_hung_batch_ends_the_process_with_exit_75():
    code = (
        "import time\n"
        "from discorecs.logs import configure\n"
        "from spark_jobs.stream.runner import BatchWatchdog\n"
        "configure()\n"
        "with BatchWatchdog(0.4).batch(7):\n"
        "    time.sleep(30)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == STUCK_EXIT_CODE
    assert "batch_stuck" in result.stderr and "batch_id=7" in result.stderr


def test_batches_within_the_timeout_are_left_alone():
    watchdog = BatchWatchdog(0.4)
    for batch_id in range(3):
        with watchdog.batch(batch_id):
            time.sleep(0.2)
    time.sleep(0.6)
