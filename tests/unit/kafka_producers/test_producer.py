"""Handing a chunk to the producer stops where a requested stop meets a full queue."""

from confluent_kafka import Producer

from kafka_producers.producer import send_chunk


def test_a_stop_while_the_queue_is_full_hands_over_a_prefix() -> None:
    # No broker and a two-message queue: the third message finds no room.
    producer = Producer({"bootstrap.servers": "127.0.0.1:1", "queue.buffering.max.messages": 2})
    values = [b"%d" % i for i in range(5)]
    keys = [b"1"] * 5
    assert send_chunk(producer, ["t"] * 5, keys, values, give_up=lambda: True) == 2
    producer.purge()
