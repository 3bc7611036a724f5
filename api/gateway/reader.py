"""The hub's consumer at work, on the hub's thread: which `games` partitions it reads, from where.

A partition is assigned from a moment in the past (`start_offset`), and is "caught up"
once its read reaches the end it had when assigned; the SSE stream starts its own
consumer with the same lookup.
"""

import logging
import re
import time
from datetime import timedelta

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from pydantic import ValidationError

from domain.wire import decode_state

REWIND = timedelta(seconds=5)  # snapshot timestamps have 1 s resolution; epochs last ~1 s
RETRY_S = 1.0  # how often an assignment that failed (broker away) is tried again
BATCH = 500
LOOKUP_TIMEOUT_S = 2.0
NOTHING_TO_READ = -1  # a partition assigned at its end is caught up at once
# How every state the dataflow writes begins (`encode_state` writes the fields in the
# model's order): enough to route it without parsing the rest, 100x faster than
# `decode_state`, which the few states written otherwise still go through.
HEAD = re.compile(rb'\{"game_id":(\d{1,16}),"version":(\d{1,19}),"status":"')

State = tuple[int, int, str]  # (game_id, version, wire JSON)


class Reader:
    """The consumer's assignment and reads; used only on the hub's thread."""

    def __init__(self, consumer: Consumer, topic: str, log: logging.Logger) -> None:
        self.consumer = consumer
        self.topic = topic
        self.log = log
        self.assigned: set[int] = set()
        self.pending: dict[int, float] = {}  # partition -> read from this time (epoch seconds)
        self.catching_up: dict[int, int] = {}  # partition -> its end offset when assigned
        self.retry_at = 0.0

    def apply(self, command: str, partition: int) -> None:
        if command == "assign":
            self.pending[partition] = time.time() - REWIND.total_seconds()
            self.retry_at = 0.0
        elif partition in self.pending:
            del self.pending[partition]
        elif partition in self.assigned:
            self.consumer.incremental_unassign([TopicPartition(self.topic, partition)])
            self.assigned.discard(partition)
            self.catching_up.pop(partition, None)

    def assign_pending(self) -> None:
        """Assign each pending partition from its start time; retried later while the broker is away."""
        if not self.pending or time.monotonic() < self.retry_at:
            return
        for partition, since in list(self.pending.items()):
            try:
                offset, end = start_offset(self.consumer, self.topic, partition, since)
            except KafkaException as err:
                self.log.warning("cannot assign %s[%d] yet: %s", self.topic, partition, err)
                self.retry_at = time.monotonic() + RETRY_S
                return
            self.consumer.incremental_assign([TopicPartition(self.topic, partition, offset)])
            self.assigned.add(partition)
            self.catching_up[partition] = end if offset < end else NOTHING_TO_READ
            del self.pending[partition]

    def caught_up(self) -> list[int]:
        """Partitions whose read has just reached the end they had when they were assigned."""
        done = []
        for partition, end in self.catching_up.items():
            if end == NOTHING_TO_READ:
                done.append(partition)
                continue
            (position,) = self.consumer.position([TopicPartition(self.topic, partition)])
            if position.offset >= end:
                done.append(partition)
        for partition in done:
            del self.catching_up[partition]
        return done

    def read(self, timeout_s: float) -> list[State]:
        """The states read within `timeout_s` (a whole batch once the first one is there)."""
        if not self.assigned:
            return []
        first = self.consumer.poll(timeout_s)
        if first is None:
            return []
        messages = [first, *self.consumer.consume(BATCH, 0)]
        return [state for m in messages if (state := self._state(m)) is not None]

    def _state(self, message: Message) -> State | None:
        error = message.error()
        if error is not None:
            self.log.warning("games consumer: %s", error)
            return None
        value = message.value()
        if value is None:
            return None
        head = HEAD.match(value)
        if head is not None:
            return int(head[1]), int(head[2]), value.decode()
        try:
            state = decode_state(value)
        except ValidationError:
            return None  # not a state; never the reader's to fail on
        return state.game_id, state.version, value.decode()


def start_offset(consumer: Consumer, topic: str, partition: int, since: float) -> tuple[int, int]:
    """The offset of the first message written at or after `since` (else the end), and the end.

    The end is read before the time lookup, so a message written in between is still read.
    """
    _, end = consumer.get_watermark_offsets(
        TopicPartition(topic, partition), timeout=LOOKUP_TIMEOUT_S, cached=False
    )
    wanted = TopicPartition(topic, partition, int(since * 1000))
    (found,) = consumer.offsets_for_times([wanted], timeout=LOOKUP_TIMEOUT_S)
    return (found.offset if found.offset >= 0 else end), end
