"""The client's and the bots' only Kafka edge: intents to partition g mod P of `actions`,
states from partition g mod P of `games` (by assignment, no consumer group).

`send` never blocks on the network; `receive` is a blocking loop meant for its own
thread, and reports everything it sees (states, the link, failed sends) through one
callback that the caller makes thread-safe. A producer the broker fences after a long
freeze is replaced (infra/producer.py); what it still held is reported undelivered.
"""

import logging
import threading
import time
from collections.abc import Callable, Collection
from functools import partial
from typing import Protocol

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from pydantic import ValidationError

from client.events import Link, Undelivered
from domain.models import Action, GameState
from domain.wire import decode_state, encode_action
from infra.kafka import consumer_config, game_key, partition_for, producer_config
from infra.producer import RenewingProducer, undelivered_reason
from infra.settings import Settings

Event = GameState | Link | Undelivered
Deliver = Callable[[Event], None]

DELIVERY_TIMEOUT_MS = 10_000  # an action not acknowledged by then is reported undelivered
HEARTBEAT_S = 1.0  # how often the link is checked; also how long an outage takes to show
PROBE_TIMEOUT_S = 1.0


class Transport(Protocol):
    """What the client and the bots need from Kafka (tests pass a hand-written fake)."""

    def send(self, action: Action) -> None:
        """Hand `action` to the producer; failures come back later as `Undelivered`."""

    def receive(self, stop: threading.Event, deliver: Deliver) -> None:
        """Until `stop` is set, pass every state of our games and every link change to `deliver`."""


class TransportError(RuntimeError):
    """The producer refused an action at once (its local queue is full)."""


class KafkaTransport:
    """An idempotent producer for any game, and a reader of the `games` partitions of `game_ids`."""

    def __init__(
        self,
        settings: Settings,
        game_ids: Collection[int],
        *,
        history: int = 1000,
        log: logging.Logger | None = None,
    ) -> None:
        self._settings = settings
        self._games = frozenset(game_ids)
        self._history = history  # how many past messages per partition to replay at start
        self._log = log or logging.getLogger("moba.transport")
        self._deliver: Deliver = lambda event: None
        self._producer = RenewingProducer(
            producer_config(
                settings,
                logger=self._log,
                error_cb=self._on_error,
                **{"message.timeout.ms": DELIVERY_TIMEOUT_MS, "reconnect.backoff.max.ms": 1000},
            ),
            self._log,
        )
        self._link: Link | None = None

    @property
    def partitions(self) -> list[int]:
        """The `games` partitions this transport reads: g mod P for each of its games."""
        return sorted({partition_for(g, self._settings.partitions) for g in self._games})

    def send(self, action: Action) -> None:
        """Produce `action` keyed str(g) to partition g mod P of `actions`; never waits."""
        try:
            self._producer.produce(
                self._settings.actions_topic,
                value=encode_action(action),
                key=game_key(action.game_id),
                partition=partition_for(action.game_id, self._settings.partitions),
                on_delivery=partial(self._delivered, action.action_id),
            )
        except (BufferError, KafkaException) as err:
            raise TransportError(str(err)) from err
        self._producer.poll(0)

    def receive(self, stop: threading.Event, deliver: Deliver) -> None:
        """Read our partitions from a recent offset until `stop`; retry while the broker is away."""
        self._deliver = deliver
        config = consumer_config(self._settings, logger=self._log, error_cb=self._on_error)
        config["reconnect.backoff.max.ms"] = 1000
        consumer = Consumer(config)
        try:
            while not stop.is_set() and not self._assign(consumer):
                stop.wait(HEARTBEAT_S)
            next_beat = time.monotonic() + HEARTBEAT_S
            while not stop.is_set():
                message = consumer.poll(0.1)
                self._producer.poll(0)  # serves delivery reports on this thread
                if message is not None:
                    self._handle(message)
                if time.monotonic() >= next_beat:
                    self._heartbeat(consumer)
                    next_beat = time.monotonic() + HEARTBEAT_S
        finally:
            consumer.close()

    def close(self, timeout_s: float = 2.0) -> None:
        """Give queued actions a moment to leave, then drop the rest."""
        self._producer.flush(timeout_s)

    def __enter__(self) -> "KafkaTransport":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _assign(self, consumer: Consumer) -> bool:
        """Assign our partitions from `history` messages back; False while the broker is away."""
        topic = self._settings.games_topic
        assignment = []
        try:
            for p in self.partitions:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, p), timeout=PROBE_TIMEOUT_S, cached=False
                )
                assignment.append(TopicPartition(topic, p, max(low, high - self._history)))
        except KafkaException as err:
            self._report(Link(up=False, detail=self._unreachable(err)))
            return False
        consumer.assign(assignment)
        self._report(Link(up=True, detail=f"connected to {self._settings.bootstrap_servers}"))
        return True

    def _heartbeat(self, consumer: Consumer) -> None:
        try:
            consumer.get_watermark_offsets(
                TopicPartition(self._settings.games_topic, self.partitions[0]),
                timeout=PROBE_TIMEOUT_S,
                cached=False,
            )
        except KafkaException as err:
            self._report(Link(up=False, detail=self._unreachable(err)))
            return
        self._report(Link(up=True, detail=f"connected to {self._settings.bootstrap_servers}"))

    def _handle(self, message: Message) -> None:
        error = message.error()
        if error is not None:
            self._log.warning("consumer: %s", error)
            if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                self._report(Link(up=False, detail=f"topic {message.topic()} does not exist yet"))
            return
        value = message.value()
        if value is None:
            return
        try:
            state = decode_state(value)
        except ValidationError as err:
            self._log.warning("skipping a message that is not a state: %s", err)
            return
        if state.game_id in self._games:
            self._deliver(state)

    def _delivered(self, action_id: str, err: KafkaError | None, _message: Message) -> None:
        if err is not None:
            self._log.warning("action %s not delivered: %s", action_id, err)
            reason = undelivered_reason(err, DELIVERY_TIMEOUT_MS, "the client's")
            self._deliver(Undelivered(action_id=action_id, error=reason))

    def _on_error(self, err: KafkaError) -> None:
        self._log.warning("kafka: %s", err)
        if err.code() == KafkaError._ALL_BROKERS_DOWN:
            self._report(Link(up=False, detail=self._unreachable(err)))

    def _report(self, link: Link) -> None:
        if link != self._link:
            self._link = link
            self._log.info("link: %s", link)
            self._deliver(link)

    def _unreachable(self, err: object) -> str:
        return f"unreachable at {self._settings.bootstrap_servers}, retrying ({_short(err)})"


def _short(err: object) -> str:
    """The gist of a Kafka error: `Connection refused`, `Timed out`."""
    if isinstance(err, KafkaException) and err.args and isinstance(err.args[0], KafkaError):
        err = err.args[0]
    text = err.str() if isinstance(err, KafkaError) else str(err)
    return text.rsplit(": ", 1)[-1].split(" (")[0][:60]
