"""The client's producer through a frozen broker: after the freeze, actions go through again.

Tansu fences an idempotent producer whose messages timed out while it was frozen
(PRODUCER_FENCED on every later message, forever); noida does not. On both, every
action sent during the freeze is on the log or reported undelivered to the player,
and the first action after it is delivered.
"""

import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.workload import Message, fresh_settings
from client.events import Undelivered
from client.transport import Event, KafkaTransport
from domain.models import Move
from domain.wire import decode_action
from infra.broker import EmbeddedBroker, free_port
from infra.kafka import create_topics
from tests.kafka_helpers import TopicReader

pytestmark = pytest.mark.slow

FREEZE_S = 15.0


@pytest.fixture(params=["noida", "tansu"])
def own_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of this test's own, of each kind: freezing the session one would stall the rest."""
    with EmbeddedBroker(
        port=free_port(), log_path=tmp_path / "broker.log", kind=request.param
    ) as running:
        yield running


def test_the_client_sends_again_after_a_15_s_freeze_and_reports_what_it_lost(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = fresh_settings(own_broker.bootstrap_servers, tmp_path / "data", partitions=4)
    create_topics(settings)
    events: queue.Queue[Event] = queue.Queue()
    stop = threading.Event()
    transport = KafkaTransport(settings, [1])
    receiver = threading.Thread(target=transport.receive, args=(stop, events.put))
    receiver.start()
    sent: list[str] = []

    def move(name: str) -> None:
        sent.append(name)
        transport.send(Move(game_id=1, player="A1", action_id=name, direction="up"))

    try:
        move("before")
        with TopicReader(settings, settings.actions_topic) as log:
            log.read_until(lambda messages: "before" in ids(messages), timeout_s=30)
        own_broker.pause()  # the producer has its id and epoch now: it has delivered
        try:
            frozen_until = time.monotonic() + FREEZE_S
            while time.monotonic() < frozen_until:
                move(f"frozen-{len(sent)}")
                stop.wait(1.0)  # a key press a second, as a player would
        finally:
            own_broker.resume()
        during = set(sent[1:])
        with TopicReader(settings, settings.actions_topic) as log:
            accounted = until_accounted(log, events, during)
            move("after")
            log.read_until(lambda messages: "after" in ids(messages), timeout_s=30)
            accounted = until_accounted(log, events, during | {"after"}, reported=accounted[1])
    finally:
        stop.set()
        receiver.join(10)
        transport.close()

    logged, reported = accounted
    assert during <= logged | reported, "an action sent during the freeze vanished silently"
    assert "after" in logged and "after" not in reported
    print(
        f"{own_broker.kind.name}: {len(during)} sent frozen, {len(reported)} reported "
        f"undelivered, of which {len(reported & logged)} reached the log all the same"
    )


def ids(messages: list[Message]) -> set[str]:
    return {decode_action(m.value).action_id for m in messages if m.value}


def until_accounted(
    log: TopicReader,
    events: "queue.Queue[Event]",
    wanted: set[str],
    reported: set[str] | None = None,
    timeout_s: float = 60,
) -> tuple[set[str], set[str]]:
    """(on the log, reported undelivered), once every id of `wanted` is one or the other."""
    reported = set() if reported is None else reported

    def accounted(messages: list[Message]) -> bool:
        while True:
            try:
                event = events.get_nowait()
            except queue.Empty:
                break
            if isinstance(event, Undelivered):
                reported.add(event.action_id)
        return wanted <= ids(messages) | reported

    return ids(log.read_until(accounted, timeout_s)), reported
