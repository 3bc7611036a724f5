"""A producer that outlives a fatal error: every client of `actions` (gateway, terminal, bots) uses it.

After a long broker freeze librdkafka's idempotent producer can be fenced (Tansu answers
its epoch bump with PRODUCER_FENCED) or hit another fatal error; from then on it refuses
every message, forever. This one replaces itself instead: the old producer's messages are
purged, each reported to its sender as not delivered (never silently dropped, never sent
twice), and the next message goes through a new producer with a new identity.
"""

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

OnDelivery = Callable[[KafkaError | None, Message], None]
# Errors after which a producer never delivers again, though librdkafka may not call them fatal.
FENCED = {KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH, KafkaError._FENCED}
PURGED = {KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT}


class RenewingProducer:
    """`produce` from any thread; `poll` from one thread, which also replaces a dead producer.

    `config` is a librdkafka producer config (`infra.kafka.producer_config`); its
    `error_cb`, if any, still hears every error. `renewals` counts the replacements.
    """

    def __init__(self, config: dict[str, Any], log: logging.Logger | None = None) -> None:
        self._config = dict(config)
        self._error_cb: Callable[[KafkaError], None] | None = self._config.pop("error_cb", None)
        self._log = log or logging.getLogger("moba.producer")
        self._lock = threading.Lock()  # guards swapping the producer against produce()
        self._dead = threading.Event()
        self.renewals = 0
        self._producer = self._new()

    def produce(
        self, topic: str, value: bytes, key: bytes, partition: int, on_delivery: OnDelivery
    ) -> None:
        """Queue one message; `on_delivery(err, msg)` follows (err None once the broker has it).

        Raises BufferError while the local queue is full, KafkaException if refused at once.
        """
        with self._lock:
            report = partial(self._delivered, on_delivery, self.renewals)
            try:
                self._producer.produce(
                    topic, value=value, key=key, partition=partition, on_delivery=report
                )
            except KafkaException as err:
                if _is_dead(err.args[0] if err.args else None):
                    self._dead.set()
                raise

    def poll(self, timeout_s: float = 0.0) -> None:
        """Serve delivery reports; a producer found dead is replaced here, on the polling thread."""
        self._producer.poll(timeout_s)
        if self._dead.is_set():
            self._renew()

    def flush(self, timeout_s: float) -> int:
        """Wait up to `timeout_s` for queued messages to leave; how many are still queued."""
        self.poll(0)
        return int(self._producer.flush(timeout_s))

    def close(self, timeout_s: float = 2.0) -> None:
        """Give queued messages `timeout_s`, then report the rest as not delivered (purged)."""
        self.flush(timeout_s)
        self._producer.purge()
        self._producer.flush(0)

    def _new(self) -> Producer:
        return Producer({**self._config, "error_cb": self._on_error})

    def _renew(self) -> None:
        with self._lock:
            if not self._dead.is_set():
                return  # another polling thread replaced it already
            old, self._producer = self._producer, self._new()
            self._dead.clear()
            self.renewals += 1
        self._log.error("replaced the producer after a fatal error (fenced by the broker?)")
        old.purge()
        old.flush(0)  # serves the purged messages' delivery reports

    def _delivered(
        self, on_delivery: OnDelivery, generation: int, err: KafkaError | None, msg: Message
    ) -> None:
        if err is not None and _is_dead(err) and generation == self.renewals:
            self._dead.set()
        on_delivery(err, msg)

    def _on_error(self, err: KafkaError) -> None:
        if err.fatal():
            self._dead.set()
        if self._error_cb is not None:
            self._error_cb(err)


def _is_dead(err: object) -> bool:
    return isinstance(err, KafkaError) and (err.fatal() or err.code() in FENCED)


def undelivered_reason(err: KafkaError, timeout_ms: int, whose: str) -> str:
    """Why a message was not delivered, for a person: `whose` producer ("the client's")."""
    if err.code() == KafkaError._MSG_TIMED_OUT:
        # it may have reached a frozen broker, which then writes it when it wakes
        return (
            f"no acknowledgement from the broker within {timeout_ms / 1000:g} s; it may still apply"
        )
    if err.code() in FENCED:
        return f"the broker fenced {whose} producer; a new one takes the next actions"
    if err.code() in PURGED:
        return f"{whose} producer was replaced or stopped before the broker acknowledged it"
    return str(err.str())
