"""Bytewax's SQLite recovery store: what it holds, and whether the broker still matches it.

The one home of this knowledge for the dataflow (preparing the store), the CLI
(stale detection) and the query side (reading game states).
"""

from typing import Any


def missing_offsets(config: dict[str, Any], topic: str, offsets: dict[int, int]) -> list[int]:
    """Partitions of `topic` whose log no longer holds the message just before the given offset.

    A recovery store that has read up to offset n of a partition expects message n-1
    to exist. High watermarks would be cheaper, but Tansu's undercount, so this fetches.
    """
    # Imported here: the query side reads the store through this module and never needs Kafka.
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({**config, "auto.offset.reset": "error", "enable.partition.eof": True})
    missing = []
    try:
        for partition, offset in sorted(offsets.items()):
            if offset <= 0:
                continue
            consumer.assign([TopicPartition(topic, partition, offset - 1)])
            msg = consumer.poll(10)
            if msg is None or msg.error() is not None or msg.offset() != offset - 1:
                missing.append(partition)
    finally:
        consumer.close()
    return missing
