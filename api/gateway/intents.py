"""The gateway's one producer: every socket's intents to partition g mod P of `actions`.

Idempotent with acks=all, as every producer of actions; its short linger gathers the
intents of a busy partition into one batch every few milliseconds instead of one per
key press. Every intent ends in the broker's acknowledgement (its state follows) or
in a report to its socket's `on_undelivered`. A fatal error, or a producer the broker
fences (Tansu does after a long freeze), replaces the producer (infra/producer.py) and
reports whatever the old one still held: a gateway must keep working when the broker
comes back.
"""

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from functools import partial

from confluent_kafka import KafkaError, KafkaException, Message

from domain.models import Action
from domain.wire import encode_action
from infra.kafka import game_key, partition_for, producer_config
from infra.producer import RenewingProducer, undelivered_reason
from infra.settings import Settings

Report = Callable[[str, str], None]  # (action_id, reason), called on the event loop
POLL_S = 0.1


class IntentProducer:
    """`send` intents from the event loop; delivery reports are served on a thread of its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._log = logging.getLogger("moba.gateway.intents")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._producer: RenewingProducer | None = None  # opened by start(), in the app's lifespan
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start serving delivery reports; call from the event loop that will `send`."""
        self._loop = asyncio.get_running_loop()
        self._producer = self._new_producer()
        self._thread = threading.Thread(target=self._run, name="moba-gateway-intents", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Give queued intents `timeout_s` to leave; report the rest as undelivered."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout_s)

    @property
    def generation(self) -> int:
        """How many times a fatal error replaced the producer."""
        return self._producer.renewals if self._producer is not None else 0

    def send(self, action: Action, on_undelivered: Report) -> None:
        """Queue `action`; if it cannot be delivered, `on_undelivered(action_id, reason)` says why."""
        try:
            producer = self._producer
            if producer is None:
                raise BufferError("not running")
            producer.produce(
                self.settings.actions_topic,
                value=encode_action(action),
                key=game_key(action.game_id),
                partition=partition_for(action.game_id, self.settings.partitions),
                on_delivery=partial(self._delivered, on_undelivered, action.action_id),
            )
        except BufferError:
            on_undelivered(
                action.action_id, "the gateway's outgoing queue is full, or it is stopping"
            )
        except KafkaException as err:
            on_undelivered(action.action_id, f"refused by the producer: {_text(err)}")

    def _new_producer(self) -> RenewingProducer:
        return RenewingProducer(
            producer_config(
                self.settings,
                logger=self._log,
                error_cb=self._on_error,
                **{
                    "linger.ms": self.settings.gateway_linger_ms,
                    "message.timeout.ms": self.settings.gateway_delivery_timeout_ms,
                    "reconnect.backoff.max.ms": 1000,
                },
            ),
            self._log,
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            producer = self._producer
            try:
                if producer is not None:
                    producer.poll(POLL_S)  # replaces a fenced producer, too
            except Exception:  # every socket's reports depend on this thread: log, go on
                self._log.exception("the gateway's producer failed a step; retrying")
                self._stop.wait(POLL_S)

    def _delivered(
        self,
        on_undelivered: Report,
        action_id: str,
        err: KafkaError | None,
        _msg: Message,
    ) -> None:
        """On the producer's thread: pass a failure to the event loop."""
        if err is None or self._loop is None:
            return
        self._log.warning("intent %r not delivered: %s", action_id, err)
        # a closed loop means the process is stopping and its sockets are gone
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(on_undelivered, action_id, self._reason(err))

    def _reason(self, err: KafkaError) -> str:
        return undelivered_reason(err, self.settings.gateway_delivery_timeout_ms, "the gateway's")

    def _on_error(self, err: KafkaError) -> None:
        self._log.warning("actions producer: %s", err)


def _text(err: KafkaException) -> str:
    first = err.args[0] if err.args else err
    return first.str() if isinstance(first, KafkaError) else str(first)
