"""The dataflow's output: each record to its own topic and partition, none lost.

Replaces bytewax's stock Kafka sink, which in 0.21.1 flushes the producer after every
batch, ignores `KafkaSinkMessage.partition` and drops failed deliveries. This sink is
a `FixedPartitionedSink` whose `snapshot()` flushes the producer and raises if any
delivery failed. Bytewax snapshots stateful sinks at the end of each epoch and commits
the epoch only after every snapshot is written, so an epoch is never committed while
one of its output messages is undelivered.
"""

import threading
from collections import deque
from typing import Any

from bytewax.outputs import FixedPartitionedSink, StatefulSinkPartition
from confluent_kafka import KafkaError, Producer

from dataflows import metrics
from dataflows.records import Outbound
from infra.kafka import produce_patiently


class RoutedSink(FixedPartitionedSink[list[Outbound], None]):
    """Produces each `Outbound` to its own topic and partition, through one producer per process.

    Items arrive as `(key, [Outbound, ...])`, batches of records keyed `str(g)` (states,
    or dead letters of game g: partition g mod P) or `"dlq-<p>"` (dead letters from
    partition p). The key picks the sink part, and part i writes partition i: each
    partition of `games` and of `actions.dlq` has one writer, one idempotent producer,
    whatever the number of processes, so a partition's order is one producer's order.
    Nothing is flushed per message or per batch: `write_batch` only queues, and the end
    of each epoch (`snapshot`) flushes and raises if any delivery failed.
    """

    def __init__(
        self,
        config: dict[str, Any],
        parts: int,
        topics: tuple[str, ...] = (),
        flush_timeout_s: float = 30.0,
    ) -> None:
        self._config = config
        self._parts = parts
        self._topics = topics  # looked up when the producer is made, before the first message
        self._flush_timeout_s = flush_timeout_s
        self._producer: _CheckedProducer | None = None
        self._lock = threading.Lock()

    def list_parts(self) -> list[str]:
        return [f"{i:05d}" for i in range(self._parts)]

    def part_fn(self, item_key: str) -> int:
        """The partition the item is written to (bytewax takes it modulo the P parts)."""
        return int(item_key.rpartition("-")[2])

    def build_part(self, step_id: str, for_part: str, resume_state: None) -> "_RoutedSinkPartition":
        with self._lock:
            if self._producer is None:
                self._producer = _CheckedProducer(self._config)
                # Connect and learn the topics' leaders now, while the source makes its
                # first fetch, rather than on the first state (half a second on Tansu).
                for topic in self._topics:
                    self._producer.producer.list_topics(topic, timeout=10)
        return _RoutedSinkPartition(self._producer, self._flush_timeout_s)


class _CheckedProducer:
    """A producer whose failed deliveries are remembered and turned into an exception."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.failures: deque[str] = deque()
        self.producer = Producer(
            {**config, "delivery.report.only.error": True, "on_delivery": self._delivered}
        )

    def _delivered(self, err: KafkaError | None, msg: Any) -> None:
        if err is not None:
            self.failures.append(f"{msg.topic()}[{msg.partition()}]: {err}")

    def raise_failures(self) -> None:
        if self.failures:
            shown = "; ".join(list(self.failures)[:3])
            raise DeliveryFailed(f"{len(self.failures)} message(s) not delivered: {shown}")


class _RoutedSinkPartition(StatefulSinkPartition[list[Outbound], None]):
    def __init__(self, checked: _CheckedProducer, flush_timeout_s: float) -> None:
        self._checked = checked
        self._flush_timeout_s = flush_timeout_s

    def write_batch(self, values: list[list[Outbound]]) -> None:
        """Queue every record; `produce` is called directly, the patient retry only on a full queue.

        A state is one call into librdkafka (positional, as its signature orders them):
        the wrapper and keywords cost more than the call itself, once per action.
        """
        producer = self._checked.producer
        produce = producer.produce
        written: dict[str, int] = {}
        for batch in values:
            for topic, partition, key, value, headers in batch:
                if headers:  # a dead letter: rare
                    produce_patiently(producer, topic, value, key, partition, list(headers))
                else:
                    try:
                        produce(topic, value, key, partition)
                    except BufferError:
                        produce_patiently(producer, topic, value, key, partition)
                written[topic] = written.get(topic, 0) + 1
        producer.poll(0)
        self._checked.raise_failures()
        for topic, count in written.items():
            metrics.written(topic, count)

    def snapshot(self) -> None:
        """End of epoch: all written so far must be on the broker before the epoch commits."""
        with metrics.FLUSH_SECONDS.time():
            remaining = self._checked.producer.flush(self._flush_timeout_s)
        self._checked.raise_failures()
        if remaining:
            raise DeliveryFailed(f"{remaining} message(s) still undelivered after flush")

    def close(self) -> None:
        self.snapshot()


class DeliveryFailed(RuntimeError):
    """The broker did not take a message: the flow stops rather than commit an epoch without it."""
