"""The client's Kafka edge against the real embedded broker: the right partitions, both ways."""

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from client.events import Link
from client.transport import Event, KafkaTransport
from domain.models import GameState, Join, Move
from domain.rules import fold
from domain.wire import decode_action, encode_state
from infra.broker import EmbeddedBroker, free_port
from infra.kafka import consumer_config, create_topics
from infra.settings import Settings


@contextmanager
def receiving(transport: KafkaTransport) -> Iterator["queue.Queue[Event]"]:
    events: queue.Queue[Event] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(target=transport.receive, args=(stop, events.put))
    thread.start()
    try:
        yield events
    finally:
        stop.set()
        thread.join(10)


def next_matching(
    events: "queue.Queue[Event]", match: Callable[[Event], bool], timeout_s: float = 15
) -> Event:
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "no matching event before the deadline"
        try:
            event = events.get(timeout=remaining)
        except queue.Empty:
            continue
        if match(event):
            return event


def test_actions_go_to_partition_g_mod_p_keyed_by_game(settings: Settings) -> None:
    with KafkaTransport(settings, [6]) as transport:
        transport.send(Move(game_id=6, player="A2", action_id="m-1", direction="left"))
    consumer = Consumer(consumer_config(settings))
    consumer.assign(
        [TopicPartition(settings.actions_topic, p, 0) for p in range(settings.partitions)]
    )
    try:
        deadline = time.monotonic() + 15
        message = None
        while message is None and time.monotonic() < deadline:
            message = consumer.poll(0.2)
        assert message is not None and message.error() is None
        assert message.partition() == 6 % settings.partitions
        assert message.key() == b"6"
        assert decode_action(message.value()) == Move(
            game_id=6, player="A2", action_id="m-1", direction="left"
        )
    finally:
        consumer.close()


def test_only_our_games_states_on_our_partition_are_delivered(settings: Settings) -> None:
    assert settings.partitions == 4
    producer = Producer({"bootstrap.servers": settings.bootstrap_servers})

    def publish(state: GameState, partition: int) -> None:
        producer.produce(
            settings.games_topic, encode_state(state), key=str(state.game_id), partition=partition
        )

    ours = fold(2, [Join(game_id=2, player="A1")])
    publish(fold(2, [Join(game_id=2, player="B1")] * 7), 3)  # our game on a wrong partition
    publish(fold(6, [Join(game_id=6, player="A1")] * 5), 2)  # another game sharing partition 2
    publish(ours, 2)
    producer.flush(10)

    with KafkaTransport(settings, [2]) as transport, receiving(transport) as events:
        assert transport.partitions == [2]
        assert next_matching(events, lambda e: isinstance(e, Link)) == Link(
            up=True, detail=f"connected to {settings.bootstrap_servers}"
        )
        first = next_matching(events, lambda e: isinstance(e, GameState))
        assert first == ours
        later = fold(2, [Join(game_id=2, player="A1")] * 3)
        publish(later, 2)
        producer.flush(10)
        assert next_matching(events, lambda e: isinstance(e, GameState)) == later


@pytest.mark.slow
def test_an_unreachable_broker_is_reported_and_the_link_recovers(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(bootstrap_servers=f"127.0.0.1:{port}", partitions=2, games_topic="games-x")
    with KafkaTransport(settings, [1]) as transport, receiving(transport) as events:
        down = next_matching(events, lambda e: isinstance(e, Link))
        assert isinstance(down, Link) and not down.up
        assert f"unreachable at 127.0.0.1:{port}, retrying" in down.detail
        with EmbeddedBroker(port=port, log_path=tmp_path / "tansu.log"):
            create_topics(settings)
            up = next_matching(events, lambda e: isinstance(e, Link) and e.up)
            assert isinstance(up, Link) and up.up
