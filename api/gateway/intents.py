"""The gateway's one producer: every socket's intents to partition g mod P of `actions`.

Idempotent with acks=all, as every producer of actions; its short linger gathers the
intents of a busy partition into one batch every few milliseconds instead of one per
key press. Every intent ends in the broker's acknowledgement (its state follows) or
in a report to its socket's `on_undelivered`. A fatal error, or a producer the broker
fences (Tansu does after a long freeze), recreates the producer and reports whatever
the old one still held: a gateway must keep working when the broker comes back.
"""

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from functools import partial

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from domain.models import Action
from domain.wire import encode_action
from infra.kafka import game_key, partition_for, producer_config
from infra.settings import Settings

Report = Callable[[str, str], None]  # (action_id, reason), called on the event loop
POLL_S = 0.1
# Errors after which this producer will never deliver again, though librdkafka may not call them fatal.
FENCED = {KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH, KafkaError._FENCED}


class IntentProducer:
    """`send` intents from the event loop; delivery reports are served on a thread of its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._log = logging.getLogger("moba.gateway.intents")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()  # guards swapping the producer against produce()
        self._fatal = threading.Event()
        self._stop = threading.Event()
        self._producer: Producer | None = None  # opened by start(), in the app's lifespan
        self._thread: threading.Thread | None = None
        self.generation = 0  # how many times a fatal error replaced the producer

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
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.flush(timeout_s)
            producer.purge()
            producer.flush(0)

    def send(self, action: Action, on_undelivered: Report) -> None:
        """Queue `action`; if it cannot be delivered, `on_undelivered(action_id, reason)` says why."""
        try:
            with self._lock:
                if self._producer is None:
                    raise BufferError("not running")
                report = partial(self._delivered, on_undelivered, action.action_id, self.generation)
                self._producer.produce(
                    self.settings.actions_topic,
                    value=encode_action(action),
                    key=game_key(action.game_id),
                    partition=partition_for(action.game_id, self.settings.partitions),
                    on_delivery=report,
                )
        except BufferError:
            on_undelivered(
                action.action_id, "the gateway's outgoing queue is full, or it is stopping"
            )
        except KafkaException as err:
            on_undelivered(action.action_id, f"refused by the producer: {_text(err)}")

    def _new_producer(self) -> Producer:
        return Producer(
            producer_config(
                self.settings,
                logger=self._log,
                error_cb=self._on_error,
                **{
                    "linger.ms": self.settings.gateway_linger_ms,
                    "message.timeout.ms": self.settings.gateway_delivery_timeout_ms,
                    "reconnect.backoff.max.ms": 1000,
                },
            )
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            producer = self._producer
            try:
                if producer is not None:
                    producer.poll(POLL_S)
                if self._fatal.is_set():
                    self._recreate()
            except Exception:  # every socket's reports depend on this thread: log, go on
                self._log.exception("the gateway's producer failed a step; retrying")
                self._stop.wait(POLL_S)

    def _recreate(self) -> None:
        """Replace the producer after a fatal error; what the old one held is reported undelivered."""
        with self._lock:
            old, self._producer = self._producer, self._new_producer()
            self._fatal.clear()
            self.generation += 1
        self._log.error("recreated the producer after a fatal error")
        if old is not None:
            old.purge()
            old.flush(0)  # serves the purged messages' delivery reports

    def _delivered(
        self,
        on_undelivered: Report,
        action_id: str,
        generation: int,
        err: KafkaError | None,
        _msg: Message,
    ) -> None:
        """On the producer's thread: pass a failure to the event loop; a fenced producer is replaced."""
        if err is None or self._loop is None:
            return
        if (err.fatal() or err.code() in FENCED) and generation == self.generation:
            self._fatal.set()
        self._log.warning("intent %r not delivered: %s", action_id, err)
        # a closed loop means the process is stopping and its sockets are gone
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(on_undelivered, action_id, self._reason(err))

    def _reason(self, err: KafkaError) -> str:
        if err.code() == KafkaError._MSG_TIMED_OUT:
            ms = self.settings.gateway_delivery_timeout_ms
            return f"broker did not acknowledge within {ms} ms"
        if err.code() in FENCED:
            return "the broker fenced the gateway's producer; it is being replaced: send again"
        if err.code() in (KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT):
            return "the gateway's producer was restarted or stopped before the broker acknowledged"
        return err.str()

    def _on_error(self, err: KafkaError) -> None:
        self._log.warning("actions producer: %s", err)
        if err.fatal():
            self._fatal.set()


def _text(err: KafkaException) -> str:
    first = err.args[0] if err.args else err
    return first.str() if isinstance(first, KafkaError) else str(first)
