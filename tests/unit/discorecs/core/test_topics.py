"""Topic layout (replicas, min.insync.replicas, compacted dead letters); producing into a full
queue."""

import pytest
from confluent_kafka import Producer

from discorecs.core.settings import Settings
from discorecs.core.topics import (
    DEAD_LETTERS,
    TOPIC_NAMES,
    min_insync_replicas,
    produce_when_room,
    producer_config,
    topic_config,
)


@pytest.mark.parametrize(("replicas", "in_sync"), [(1, 1), (2, 1), (3, 2)])
def test_all_replicas_but_one_must_be_in_sync(replicas: int, in_sync: int) -> None:
    assert min_insync_replicas(replicas) == in_sync


def test_one_node_keeps_the_topic_configs_it_always_had() -> None:
    settings = Settings()
    assert topic_config(settings, "collections") == {}
    assert topic_config(settings, DEAD_LETTERS) == {
        "cleanup.policy": "compact,delete",
        "retention.ms": str(30 * 24 * 3600 * 1000),
    }


def test_three_nodes_need_two_replicas_in_sync_on_every_topic() -> None:
    settings = Settings(nodes=3)
    for name in TOPIC_NAMES:
        assert topic_config(settings, name)["min.insync.replicas"] == "2"
    assert topic_config(settings, DEAD_LETTERS)["cleanup.policy"] == "compact,delete"


def test_the_producer_is_idempotent_and_waits_for_every_in_sync_replica() -> None:
    config = producer_config(Settings(nodes=3))
    assert config["enable.idempotence"] is True and config["acks"] == "all"
    assert config["bootstrap.servers"] == "127.0.0.1:9092,127.0.0.2:9092,127.0.0.3:9092"


def test_produce_when_room_waits_for_a_full_queue_to_drain() -> None:
    # No broker: each message fails after 200 ms, which frees the one-message queue.
    config = {
        "bootstrap.servers": "127.0.0.1:1",
        "queue.buffering.max.messages": 1,
        "message.timeout.ms": 200,
    }
    producer = Producer(config)
    reported: list[bytes] = []
    for value in (b"a", b"b"):
        produce_when_room(
            producer, "t", value, on_delivery=lambda _e, m: reported.append(m.value())
        )
    producer.flush(5)
    assert reported == [b"a", b"b"]


def test_produce_when_room_gives_up_when_asked() -> None:
    # No broker and a one-message queue that stays full for 60 s.
    config = {"bootstrap.servers": "127.0.0.1:1", "queue.buffering.max.messages": 1}
    producer = Producer(config)
    assert produce_when_room(producer, "t", b"a")
    asked: list[bool] = []

    def give_up() -> bool:
        asked.append(True)
        return len(asked) >= 3

    assert not produce_when_room(producer, "t", b"b", give_up)
    assert len(asked) == 3
    producer.purge()
