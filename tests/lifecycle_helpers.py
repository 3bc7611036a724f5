"""Reading a game's log back as the dataflow read it, with each record's time: the oracle's input."""

import time

from confluent_kafka import Consumer, TopicPartition

from domain.models import Action, GameState, Tick
from infra.intake import NotAdmitted, admitted_record
from infra.kafka import consumer_config, partition_for
from infra.settings import Settings


def log_of_game(
    settings: Settings, game_id: int, timeout_s: float = 30
) -> list[tuple[Action | Tick, int]]:
    """The game's actions and its partition's clock records, with their Kafka timestamps, in log order."""
    partition = partition_for(game_id, settings.partitions)
    consumer = Consumer(consumer_config(settings))
    try:
        _, high = consumer.get_watermark_offsets(
            TopicPartition(settings.actions_topic, partition), timeout=10
        )
        consumer.assign([TopicPartition(settings.actions_topic, partition, 0)])
        records: list[tuple[Action | Tick, int]] = []
        offset, deadline = -1, time.monotonic() + timeout_s
        while offset < high - 1:
            assert time.monotonic() < deadline, f"read {offset + 1} of {high} records"
            for msg in consumer.consume(1000, 0.1):
                if msg.error() is not None:
                    continue
                offset = msg.offset()
                try:
                    record = admitted_record(
                        msg.value(), partition, settings.max_action_bytes, settings.partitions
                    )
                except NotAdmitted:
                    continue
                if isinstance(record, Tick) or record.game_id == game_id:
                    records.append((record, msg.timestamp()[1]))
        return records
    finally:
        consumer.close()


def newest_versions(states: list[GameState]) -> list[GameState]:
    """Each version once, in version order (a restarted flow re-sends some, byte for byte)."""
    return [s for _, s in sorted({s.version: s for s in states}.items())]
