"""Reading a partition back from the broker, whole and in offset order: what a replay starts from.

`read_log` reads a partition of `actions` from offset 0, as a new dataflow does (never
from where the broker says the log starts: Tansu can name a later batch, docs/lab/),
reading again past any batch a fetch skipped (infra/gaps.py). A log whose start was
trimmed (retention, DeleteRecords) cannot be replayed: `LogTrimmed`, never a partial
read. `read_kept` reads what a topic still keeps (`games`, trimmed by retention as
the broker likes).
"""

import logging
import time
from typing import Any, NamedTuple

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from infra.gaps import GapGuard, Verdict
from infra.kafka import consumer_config
from infra.settings import Settings

log = logging.getLogger(__name__)
_QUIET = logging.getLogger("moba.history.librdkafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False
WATERMARKS_TIMEOUT_S = 10.0


class Record(NamedTuple):
    """One message of a partition, as the dataflow's source sees it."""

    offset: int
    timestamp_ms: int  # the broker's LogAppendTime, or the producer's CreateTime
    key: bytes | None
    value: bytes | None


class LogUnavailable(RuntimeError):
    """The broker cannot be reached, the topic is missing, or the read made no progress."""


class LogTrimmed(RuntimeError):
    """The partition no longer starts at offset 0: what it held first is gone for good."""

    def __init__(self, topic: str, partition: int, first: int | None) -> None:
        where = f"{topic}[{partition}]"
        start = f"starts at offset {first}" if first is not None else "no longer starts at 0"
        super().__init__(
            f"{where} {start}: the log was trimmed (retention or deleted records), so the "
            f"games on it cannot be rebuilt; replay needs `{topic}` whole (retention.ms=-1)"
        )
        self.topic, self.partition, self.first = topic, partition, first


def read_log(
    settings: Settings, topic: str, partition: int, stall_s: float = 30.0, gap_grace_s: float = 1.0
) -> list[Record]:
    """Every record of `partition`, offset 0 to its end; `LogTrimmed` if offset 0 is gone.

    Offsets are contiguous on `actions`: a fetch that skips some is read again until they
    arrive (Tansu stores a batch after moving the end past it); a hole still there after
    `gap_grace_s` is read past with a warning, exactly as the dataflow's source does.
    """
    with _consumer(settings, **{"auto.offset.reset": "error"}) as consumer:
        low, _ = _watermarks(consumer, topic, partition, settings.bootstrap_servers)
        try:
            return _read(consumer, topic, partition, True, stall_s, gap_grace_s)
        except LogTrimmed as err:
            if err.first is None and low > 0:
                raise LogTrimmed(topic, partition, low) from None  # where it starts now
            raise


def read_kept(
    settings: Settings, topic: str, partition: int, stall_s: float = 30.0
) -> list[Record]:
    """Every record `partition` still keeps, from wherever its log starts now to its end.

    For a topic with one writer per partition (`games`), trimmed by retention as the
    broker likes: no fetch skips a batch there.
    """
    with _consumer(settings, **{"auto.offset.reset": "earliest"}) as consumer:
        _watermarks(consumer, topic, partition, settings.bootstrap_servers)
        return _read(consumer, topic, partition, False, stall_s, gap_grace_s=0.0)


class _consumer:
    """A consumer without a group, closed on the way out; librdkafka's own logs kept quiet.

    A broker that cannot be reached is reported once, as `LogUnavailable`, rather than
    by librdkafka's connection errors on stderr.
    """

    def __init__(self, settings: Settings, **extra: Any) -> None:
        config = consumer_config(settings, **{"enable.partition.eof": True, **extra})
        self._consumer = Consumer({**config, "logger": _QUIET})

    def __enter__(self) -> Consumer:
        return self._consumer

    def __exit__(self, *exc: object) -> None:
        self._consumer.close()


def _watermarks(consumer: Consumer, topic: str, partition: int, bootstrap: str) -> tuple[int, int]:
    """The partition's first and next offsets, or `LogUnavailable` saying why not."""
    try:
        low, high = consumer.get_watermark_offsets(
            TopicPartition(topic, partition), timeout=WATERMARKS_TIMEOUT_S
        )
    except KafkaException as err:
        error = err.args[0]
        if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            raise LogUnavailable(f"there is no partition {partition} of topic {topic!r}") from None
        raise LogUnavailable(
            f"cannot read {topic}[{partition}] from the broker at {bootstrap}: {error.str()}"
        ) from None
    return int(low), int(high)


def _read(
    consumer: Consumer,
    topic: str,
    partition: int,
    whole: bool,
    stall_s: float,
    gap_grace_s: float,
) -> list[Record]:
    """The records from offset 0 (`whole`) or the log's start to its end, none skipped.

    The end is where a fetch reports the partition's end (`PARTITION_EOF`) with every
    offset before it read: not the broker's ListOffsets, which Tansu answers with a
    stored batch's offset rather than the log's end.
    """
    guard = GapGuard(gap_grace_s)
    guard.expect(partition, 0)
    consumer.assign([TopicPartition(topic, partition, 0)])
    records: list[Record] = []
    progress = time.monotonic()
    end = -1  # the end the last fetch reported
    while end < 0 or guard.next_offset(partition) < end:
        if time.monotonic() - progress > stall_s:
            raise LogUnavailable(
                f"{topic}[{partition}]: no progress for {stall_s:.0f} s at offset "
                f"{guard.next_offset(partition)}"
            )
        for msg in consumer.consume(10_000, 0.2):
            error, offset = msg.error(), msg.offset() or 0  # every message has an offset
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    end = offset
                    progress = time.monotonic()
                    if not whole and not records:
                        guard.expect(partition, offset)  # all of it trimmed: nothing is kept
                    continue
                if error.code() == KafkaError._AUTO_OFFSET_RESET:
                    raise LogTrimmed(topic, partition, None)
                if error.fatal():
                    raise LogUnavailable(f"cannot read {topic}[{partition}]: {error.str()}")
                continue  # transient: librdkafka retries
            if not whole and not records:
                guard.expect(partition, offset)  # where the kept log starts
            now = time.monotonic()
            verdict = guard.admit(partition, offset, now)
            if verdict is Verdict.REREAD:
                consumer.seek(TopicPartition(topic, partition, guard.next_offset(partition)))
                end = -1  # the rest of this fetch is stale, its end too
                break
            if verdict is Verdict.DELIVER:
                records.append(Record(offset, msg.timestamp()[1], msg.key(), msg.value()))
                progress = now
        for _, missing, found in guard.read_past:
            if missing == 0:
                raise LogTrimmed(topic, partition, found)
            log.warning(
                "%s[%d]: offsets %d to %d missing; read past", topic, partition, missing, found - 1
            )
        guard.read_past.clear()
    return records
