"""Several producers on one partition, read live: what a plain consumer misses, and what the source does.

    python -m bench.gaps [--writers 4] [--messages 3000] [--rate 300] [--repeat 3]
    python -m bench.gaps --earliest 300 [--writers 4]

Each run starts its own embedded broker and a one-partition topic. `writers` producers
(each its own connection, as clients are) append `messages` each at `rate`/s, while
two readers follow the partition live: a plain librdkafka consumer, and the dataflow's
`ActionsSource` with its `GapGuard`. Afterwards the partition is read once more from
offset 0. It prints, per run, how many messages the log holds, how many each live
reader missed, and how often the source read a gap again (docs/reliability.md).
tests/test_offset_gaps.py runs one short round and asserts the source misses nothing.

`--earliest N` measures the other way a reader can start past actions: N times, a new
10-partition topic gets its first message on every partition from `writers` producers
at once, and each partition's earliest offset is asked of the broker (what librdkafka's
OFFSET_BEGINNING resolves to). Tansu answers with the batch it stored first, so it can
name an offset above 0 while offset 0 is in the log; a new flow starts at offset 0
instead (dataflows/source.py).
"""

import argparse
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from bench.soak import read_partition
from bench.workload import fresh_settings
from dataflows.source import ActionsSource
from infra.broker import EmbeddedBroker, free_port
from infra.kafka import consumer_config, produce_patiently, producer_config
from infra.settings import Settings


@dataclass(frozen=True)
class GapRound:
    in_log: int
    plain_missed: int
    source_missed: int
    source_duplicates: int
    source_out_of_order: int
    rereads: int


def write_concurrently(settings: Settings, writers: int, messages: int, rate: float) -> int:
    """`writers` producers, one thread and one connection each, on partition 0 of `actions`."""
    failures: list[str] = []

    def one(name: str) -> None:
        producer = Producer(producer_config(settings, **{"linger.ms": 0}))
        started = time.monotonic()
        for i in range(messages):
            ahead = i / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)  # pacing: one message every 1/rate s, as a player would
            value = f"{name}-{i}".encode()
            produce_patiently(producer, settings.actions_topic, value, None, 0)
            producer.poll(0)
        if producer.flush(60) != 0:
            failures.append(name)

    threads = [threading.Thread(target=one, args=(f"w{k}",)) for k in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, f"producers {failures} left messages undelivered"
    return writers * messages


class PlainReader(threading.Thread):
    """A librdkafka consumer following partition 0 live, trusting every fetch."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.values: list[bytes] = []
        self.last_offset = -1
        self.stop = threading.Event()
        self._consumer = Consumer(consumer_config(settings))
        self._consumer.assign([TopicPartition(settings.actions_topic, 0, 0)])

    def run(self) -> None:
        while not self.stop.is_set():
            for msg in self._consumer.consume(1000, 0.05):
                if msg.error() is None:
                    self.values.append(msg.value())
                    self.last_offset = msg.offset()
        self._consumer.close()


class SourceReader(threading.Thread):
    """The dataflow's source on partition 0, polled as a bytewax worker polls it."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.offsets: list[int] = []
        self.values: list[bytes] = []
        self.stop = threading.Event()
        self.source = ActionsSource(consumer_config(settings), settings.actions_topic, 1)
        self._part = self.source.build_part("gaps", "0", None)

    def run(self) -> None:
        while not self.stop.is_set():
            batch = self._part.next_batch()
            self.offsets.extend(m.offset for m in batch)
            self.values.extend(m.value for m in batch)
            if not batch:
                time.sleep(0.001)  # bytewax's own pacing between empty polls


def one_round(settings: Settings, writers: int, messages: int, rate: float) -> GapRound:
    """Write concurrently while both readers follow; compare each with the whole log."""
    plain, source = PlainReader(settings), SourceReader(settings)
    plain.start()
    source.start()
    total = write_concurrently(settings, writers, messages, rate)
    deadline = time.monotonic() + 30  # both readers at the log's last offset, or give up
    while time.monotonic() < deadline and not (
        plain.last_offset == total - 1 and source.offsets and source.offsets[-1] == total - 1
    ):
        time.sleep(0.05)
    plain.stop.set()
    source.stop.set()
    plain.join()
    source.join()
    log = [msg.value for msg in read_partition(settings, settings.actions_topic, 0)]
    assert len(log) == len(set(log)) == total, "the log itself lacks or repeats messages"
    in_log = set(log)
    return GapRound(
        in_log=len(log),
        plain_missed=len(in_log - set(plain.values)),
        source_missed=len(in_log - set(source.values)),
        source_duplicates=len(source.values) - len(set(source.values)),
        source_out_of_order=sum(offset != i for i, offset in enumerate(source.offsets)),
        rereads=source.source.gap_rereads(),
    )


def earliest_above_zero(settings: Settings, writers: int, rounds: int, partitions: int = 10) -> int:
    """Partitions, of `rounds` x `partitions`, whose earliest offset the broker puts above 0."""
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    producers = [Producer(producer_config(settings, **{"linger.ms": 0})) for _ in range(writers)]
    consumer = Consumer(consumer_config(settings))
    wrong = 0
    for _ in range(rounds):
        topic = f"earliest-{uuid.uuid4().hex[:12]}"
        admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)
        for producer in producers:
            producer.list_topics(topic, timeout=10)
        barrier = threading.Barrier(writers)
        threads = [
            threading.Thread(target=_first_writes, args=(p, topic, partitions, barrier))
            for p in producers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for partition in range(partitions):
            tp = TopicPartition(topic, partition)
            low, _high = consumer.get_watermark_offsets(tp, timeout=10, cached=False)
            if low > 0:
                first = read_partition(settings, topic, partition)[0].offset
                assert first == 0, f"{topic}[{partition}] starts at {first}"
                wrong += 1
    consumer.close()
    return wrong


def _first_writes(
    producer: Producer, topic: str, partitions: int, barrier: threading.Barrier
) -> None:
    barrier.wait()  # every producer's first batches at once
    for partition in range(partitions):
        producer.produce(topic, b"first", partition=partition)
    producer.flush(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gaps", description=__doc__)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--messages", type=int, default=3000, help="per writer")
    parser.add_argument("--rate", type=float, default=300.0, help="messages/s per writer")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--earliest", type=int, metavar="N", help="measure the earliest offset")
    args = parser.parse_args(argv)
    if args.earliest:
        with EmbeddedBroker(port=free_port(), tied=True) as broker:
            settings = fresh_settings(broker.bootstrap_servers, Path("."), partitions=1)
            wrong = earliest_above_zero(settings, args.writers, args.earliest)
        print(
            f"{wrong} of {args.earliest * 10} partitions: the broker's earliest offset is above 0 "
            "while offset 0 is in the log"
        )
        return 0
    print("run  in log  plain consumer missed  source missed  repeated  out of order  re-reads")
    for run in range(1, args.repeat + 1):
        with EmbeddedBroker(port=free_port(), tied=True) as broker:
            settings = fresh_settings(broker.bootstrap_servers, Path("."), partitions=1)
            result = one_round(settings, args.writers, args.messages, args.rate)
        print(
            f"{run:>3}  {result.in_log:>6}  {result.plain_missed:>21}  {result.source_missed:>13}  "
            f"{result.source_duplicates:>8}  {result.source_out_of_order:>12}  {result.rereads:>8}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
