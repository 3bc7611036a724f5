"""Throughput: N actions pre-loaded on `actions`, then the real dataflow until the last state is on `games`.

The limit is the fastest thing that could move those messages on this broker: one
process with a tuned consumer that produces each message unchanged. Both rates are
taken the same way, from the broker timestamps of the output messages (first to
last), so start-up is excluded from both.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Producer, TopicPartition

from bench.workload import (
    Counter,
    EndWatch,
    MachineCpu,
    Record,
    fresh_settings,
    produce_all,
    steady_rate,
    tuned_consumer,
)
from dataflows import launch
from infra.kafka import produce_patiently, producer_config
from infra.settings import Settings


@dataclass
class Loaded:
    """Topics with the workload already on `actions`."""

    settings: Settings
    count: int


def load(bootstrap: str, root: Path, workload: list[Record]) -> Loaded:
    settings = fresh_settings(bootstrap, root)
    return Loaded(settings, produce_all(settings, settings.actions_topic, workload))


@dataclass(frozen=True)
class FlowRate:
    """The dataflow's steady rate, and how many of the machine's cores were busy meanwhile."""

    actions_per_s: float
    busy_cores: float


def dataflow_rate(
    loaded: Loaded, root: Path, processes: int = 1, timeout_s: float = 180, workers: int = 1
) -> FlowRate:
    """Actions/s of the real dataflow (recovery on) over the pre-loaded actions.

    `processes` processes of `workers` worker threads each: `-w 10` is what the README
    tells people to type, so it is measured beside `-w 1`.

    Busy cores (everything on the machine: dataflow, broker, this watcher) are counted
    from the first state written to the last, so start-up is excluded as from the rate.
    The states are read once the flow has written them all, as the pass-through's are.
    """
    settings = loaded.settings
    with EndWatch(settings, settings.games_topic) as watch:
        flows = launch.start_cluster(settings, root, processes, workers)

        def alive() -> None:
            for flow in flows:
                flow.raise_if_exited()

        try:
            watch.until(1, timeout_s, alive)
            cpu = MachineCpu()
            watch.until(loaded.count, timeout_s, alive)
            busy = cpu.busy_cores()
            # read only now, the flows still running in case the watch ended early (Tansu's
            # end offsets): a reader that kept up would have spun beside them (`EndWatch`)
            with Counter(settings, settings.games_topic) as counter:
                counter.until(loaded.count, timeout_s, alive)
        finally:
            for flow in flows:
                flow.kill()
    return FlowRate(steady_rate(counter.timestamps_ms), busy)


def speedup_ceiling(one: FlowRate, processes: int = 2) -> float:
    """The most `processes` processes could gain: the cores one process leaves idle, at best.

    Each action costs the machine the same CPU whatever the process count (dataflow,
    broker, reader), if crossing between processes were free; so the rate can grow
    only until every core is busy, and never past `processes` times.
    """
    cores = os.cpu_count() or 1
    return min(float(processes), cores / max(one.busy_cores, 1e-9))


def passthrough_rate(loaded: Loaded, timeout_s: float = 600) -> float:
    """The limit: consume the same messages and produce them unchanged, in one process."""
    settings = loaded.settings
    out_topic = settings.dlq_topic  # an empty topic with the same partitions
    consumer = tuned_consumer(settings)
    consumer.assign(
        [TopicPartition(settings.actions_topic, p, 0) for p in range(settings.partitions)]
    )
    producer = Producer(producer_config(settings, **{"linger.ms": 5, "batch.num.messages": 10000}))
    moved = 0
    deadline = time.monotonic() + timeout_s
    try:
        while moved < loaded.count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"pass-through moved {moved} of {loaded.count}")
            for msg in consumer.consume(10_000, 0.05):
                if msg.error() is not None:
                    continue
                produce_patiently(producer, out_topic, msg.value(), msg.key(), msg.partition())
                moved += 1
            producer.poll(0)
        producer.flush(60)
    finally:
        consumer.close()
    with Counter(settings, out_topic) as counter:
        counter.until(loaded.count, timeout_s)
        return steady_rate(counter.timestamps_ms)
