"""The warm-up's probe records: one per event kind and task slot, every one rejected."""

import pyarrow as pa

from discorecs.core.events import KINDS
from discorecs.core.settings import Settings
from spark_jobs.stream.validation import KAFKA_COLUMNS, validate_batches
from spark_jobs.stream.warm_up import probe_records


def test_probe_records_cover_every_kind_once_per_slot() -> None:
    settings = Settings(keyspace="ks")
    records = probe_records(settings, copies=2)
    topics = [record[0] for record in records]
    assert sorted(topics) == sorted(settings.topic(kind) for kind in KINDS for _ in range(2))


def test_every_probe_record_fails_validation_so_nothing_is_written() -> None:
    records = probe_records(Settings(keyspace="ks"), copies=3)
    columns = list(zip(*records, strict=True))
    types = [pa.string(), pa.int32(), pa.int64(), pa.binary(), pa.binary()]
    batch = pa.RecordBatch.from_arrays(
        [pa.array(values, kind) for values, kind in zip(columns, types, strict=True)],
        names=list(KAFKA_COLUMNS),
    )
    (checked,) = validate_batches([batch])
    assert checked.num_rows == len(records)
    assert None not in checked.column("reason").to_pylist()
    assert set(checked.column("user_id").to_pylist()) == {None}
