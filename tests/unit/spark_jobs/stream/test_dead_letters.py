"""A worker whose dead letters were not delivered starts the next task with a fresh producer."""

from types import SimpleNamespace

import pytest
from confluent_kafka import KafkaException

from discorecs.core.settings import Settings
from spark_jobs.stream import dead_letters


def test_an_undelivered_batch_drops_the_workers_producer() -> None:
    settings = Settings(kafka={"port": 1})  # no broker listens there: nothing is delivered
    row = SimpleNamespace(
        topic="collections", partition=0, offset=7, value=b"{", reason="bad_json", release_id=None
    )
    first = dead_letters.worker_producer(settings)
    with pytest.raises(KafkaException, match="1 dead letters to dead_letters not delivered"):
        list(dead_letters.send_partition(settings, [row], flush_s=0.2))
    assert dead_letters.worker_producer(settings) is not first
    first.purge()
    dead_letters.worker_producer(settings).purge()
