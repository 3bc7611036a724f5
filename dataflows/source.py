"""The dataflow's input: every partition of `actions`, read with no offset skipped.

Replaces bytewax's stock Kafka source, which in 0.21.1 busy-polls one consumer per
partition. Exactly-once hinges on two things here:
- the snapshot is the next offset to read of each partition, so a resumed flow
  re-reads exactly what the restored state has not seen, and a new flow starts at
  offset 0 (`LOG_START`), never where the broker says the log starts;
- every offset is read: a fetch that skipped some (Tansu, while several clients
  write a partition) is read again until the gap fills (infra/gaps.py).
"""

import logging
import threading
import time
from collections import deque
from typing import Any

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from confluent_kafka import Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient

from dataflows import metrics
from dataflows.records import DeadLetter, Inbound
from domain.game import make
from infra.gaps import GapGuard, Verdict

log = logging.getLogger(__name__)

# Where a flow without recovery data starts reading each partition: offset 0, the start of
# a log nothing has trimmed. Not the broker's "earliest" (librdkafka's OFFSET_BEGINNING):
# Tansu answers that with the batch it stored first, which while several clients write
# a partition can lie after offsets whose batch was stored a moment later, and a flow
# starting there would never apply them. On a log trimmed by retention, offset 0 is
# out of range: the consumer resets to the log's real start, and the gap guard reads
# past the trimmed offsets after its grace, with a warning (docs/pipeline.md).
LOG_START = 0


class ActionsSource(FixedPartitionedSource[Inbound | DeadLetter, int]):
    """Every partition of one topic, read through one consumer per process, whatever its workers.

    Resume state is the next offset to read. Consumer errors that are not fatal come
    out as dead letters (reason `consumer_error`); fatal ones stop the flow. A gap in
    the offsets a fetch returns is read again for up to `gap_grace_s` before it is
    taken as real (infra/gaps.py).
    """

    def __init__(
        self,
        config: dict[str, Any],
        topic: str,
        partitions: int,
        batch_size: int = 1000,
        gap_grace_s: float = 1.0,
    ) -> None:
        self._config = config
        self._topic = topic
        self._partitions = partitions
        self._batch_size = batch_size
        self._gap_grace_s = gap_grace_s
        self._hub: _ConsumerHub | None = None
        self._lock = threading.Lock()

    def list_parts(self) -> list[str]:
        """Each Kafka partition is a part; refuses a topic whose partition count differs from P."""
        admin = AdminClient({"bootstrap.servers": self._config["bootstrap.servers"]})
        topic = admin.list_topics(self._topic, timeout=30).topics.get(self._topic)
        if topic is None or topic.error is not None or not topic.partitions:
            error = topic.error if topic is not None else "missing"
            raise RuntimeError(f"cannot read topic {self._topic!r}: {error}")
        if len(topic.partitions) != self._partitions:
            raise RuntimeError(
                f"topic {self._topic!r} has {len(topic.partitions)} partitions, "
                f"settings say {self._partitions}: game g would be looked for on the wrong one"
            )
        return [str(i) for i in sorted(topic.partitions)]

    def build_part(
        self, step_id: str, for_part: str, resume_state: int | None
    ) -> "_ActionsPartition":
        partition = int(for_part)
        hub = self._shared_hub()
        start = LOG_START if resume_state is None else resume_state
        hub.assign(partition, start)
        return _ActionsPartition(hub, self._topic, partition, start, self._batch_size)

    def gap_rereads(self) -> int:
        """How often this process's consumers found a gap in a fetch and read it again."""
        with self._lock:
            return 0 if self._hub is None else self._hub.gaps.rereads

    def _shared_hub(self) -> "_ConsumerHub":
        """This process's consumer, shared by its worker threads.

        One per worker thread would be ten fetchers under `-w 10`; on noida, which
        answers an empty fetch at once, each keeps fetching, and under load ten of them
        cost the process and the broker several hundred microseconds per action
        (docs/benchmarks.md).
        """
        with self._lock:
            if self._hub is None:
                self._hub = _ConsumerHub(
                    self._config, self._topic, self._batch_size, self._gap_grace_s
                )
            return self._hub


class _ConsumerHub:
    """One consumer per process, demultiplexed into a buffer per partition, with no offset skipped.

    One consumer instead of one per partition saves a fetcher per partition and the
    busy polling of each; `consume(timeout=0)` only drains what librdkafka's
    background fetcher already has. Worker threads share it under a lock: each takes
    only its own partitions' messages, and whichever fills the buffers fills them all.
    Every message passes a `GapGuard`: a fetch that skipped offsets another producer is
    still writing (Tansu) is read again from the first missing one instead of being
    trusted (infra/gaps.py).
    """

    def __init__(
        self, config: dict[str, Any], topic: str, batch_size: int, gap_grace_s: float
    ) -> None:
        self._consumer = Consumer(config)
        self._topic = topic
        self._batch_size = batch_size
        self._buffers: dict[int, deque[Any]] = {}
        self._buffered = 0
        self.errors: deque[KafkaError] = deque()
        self.gaps = GapGuard(gap_grace_s)
        self._lock = threading.Lock()

    def assign(self, partition: int, offset: int) -> None:
        """Read `partition` from `offset`, expecting every offset from there on."""
        with self._lock:
            self._buffers[partition] = deque()
            self.gaps.expect(partition, offset)
            self._consumer.incremental_assign([TopicPartition(self._topic, partition, offset)])

    def take(self, partition: int, limit: int) -> list[Any]:
        """Up to `limit` messages of `partition`, in offset order; never blocks."""
        with self._lock:
            buffer = self._buffers[partition]
            if not buffer and self._buffered < 4 * self._batch_size:
                self._fill()
            count = min(limit, len(buffer))
            self._buffered -= count
            return [buffer.popleft() for _ in range(count)]

    def take_errors(self) -> list[KafkaError]:
        """The consumer's errors not yet reported, each to one partition's reader."""
        with self._lock:
            errors = list(self.errors)
            self.errors.clear()
            return errors

    def _fill(self) -> None:
        rereading: set[int] = set()  # partitions sought back: the rest of their fetch is stale
        now = time.monotonic()
        for msg in self._consumer.consume(self._batch_size, 0):
            error = msg.error()
            if error is not None:
                if error.fatal():
                    raise RuntimeError(f"fatal error consuming {self._topic!r}: {error}")
                self.errors.append(error)
                continue
            partition = msg.partition()
            if partition in rereading:
                continue
            verdict = self.gaps.admit(partition, msg.offset(), now)
            if verdict is Verdict.DELIVER:
                self._buffers[partition].append(msg)
                self._buffered += 1
            elif verdict is Verdict.REREAD:
                offset = self.gaps.next_offset(partition)
                self._consumer.seek(TopicPartition(self._topic, partition, offset))
                rereading.add(partition)
        for partition, missing, found in self.gaps.read_past:
            log.warning(
                "%s[%d]: offsets %d to %d still missing after %.1f s; reading on from %d",
                self._topic,
                partition,
                missing,
                found - 1,
                self.gaps.grace_s,
                found,
            )
        self.gaps.read_past.clear()


class _ActionsPartition(StatefulSourcePartition[Inbound | DeadLetter, int]):
    def __init__(
        self, hub: _ConsumerHub, topic: str, partition: int, offset: int, batch_size: int
    ) -> None:
        self._hub = hub
        self._topic = topic
        self._partition = partition
        self._next_offset = offset
        self._batch_size = batch_size

    def next_batch(self) -> list[Inbound | DeadLetter]:
        batch: list[Inbound | DeadLetter] = []
        if self._hub.errors:  # a look without the lock: errors are rare, and taken under it
            errors = self._hub.take_errors()
            batch.extend(DeadLetter(None, "consumer_error", str(e)[:300]) for e in errors)
        msgs = self._hub.take(self._partition, self._batch_size)
        topic, partition = self._topic, self._partition
        batch.extend(
            make(Inbound, (topic, partition, m.offset(), m.key(), m.value(), m.timestamp()[1]))
            for m in msgs
        )
        if msgs:
            self._next_offset = msgs[-1].offset() + 1
            metrics.ACTIONS_READ.inc(len(msgs))
        return batch

    def snapshot(self) -> int:
        return self._next_offset
