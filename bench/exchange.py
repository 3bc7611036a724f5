"""What two Bytewax processes cost on their own: a trivial keyed flow, one process against two.

`python -m bench.exchange` runs a flow with no Kafka and no game in it (10 source
partitions of (game key, 100 bytes) items, `stateful_map` counting per key, a sink that
drops everything) as `python -m bytewax.run bench.exchange -w 1` and as two processes
(`-i 0/1 -a`), each over two item counts; the difference of the wall times over the
difference of the counts is the cost per item with start-up cancelled out. If two
processes are slower here, no dataflow keyed like ours gains from them on this machine.
"""

import argparse
import os
import subprocess
import time
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from dataflows import launch

PARTITIONS = 10
GAMES = 1_000
PAYLOAD = b"x" * 100


class _Items(StatefulSourcePartition[tuple[str, bytes], int]):
    """`total` items of the games g = partition mod 10, round-robin, in batches of 1,000."""

    def __init__(self, partition: int, total: int, sent: int) -> None:
        self._partition, self._total, self._sent = partition, total, sent

    def next_batch(self) -> list[tuple[str, bytes]]:
        if self._sent >= self._total:
            raise StopIteration
        count = min(1_000, self._total - self._sent)
        per_partition = GAMES // PARTITIONS
        batch = [
            (str(self._partition + PARTITIONS * ((self._sent + i) % per_partition)), PAYLOAD)
            for i in range(count)
        ]
        self._sent += count
        return batch

    def snapshot(self) -> int:
        return self._sent


class _Source(FixedPartitionedSource[tuple[str, bytes], int]):
    def __init__(self, items: int) -> None:
        self._per_partition = items // PARTITIONS

    def list_parts(self) -> list[str]:
        return [str(i) for i in range(PARTITIONS)]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _Items:
        return _Items(int(for_part), self._per_partition, resume_state or 0)


class _Drop(StatelessSinkPartition[Any]):
    def write_batch(self, items: list[Any]) -> None:
        pass


class DropSink(DynamicSink[Any]):
    """A sink that keeps nothing: what a flow costs without writing anywhere."""

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _Drop:
        return _Drop()


def _count(seen: int | None, item: bytes) -> tuple[int, int]:
    seen = (seen or 0) + 1
    return seen, seen


def __getattr__(name: str) -> Dataflow:
    """`flow`, built when `bytewax.run` asks for it, over BENCH_ITEMS items."""
    if name != "flow":
        raise AttributeError(name)
    flow = Dataflow("exchange")
    items = op.input("items", flow, _Source(int(os.environ["BENCH_ITEMS"])))
    # (str(game), bytes)
    counted = op.stateful_map("count", items, _count)
    # (str(game), count)
    op.output("drop", counted, DropSink())
    return flow


def wall_s(items: int, processes: int) -> float:
    """Seconds for `processes` processes of one worker each to run the flow over `items`."""
    env = {**os.environ, "BENCH_ITEMS": str(items)}
    started = time.perf_counter()
    running = [
        subprocess.Popen(argv, env=env, cwd=launch.REPO_ROOT)
        for argv in launch.cluster(processes, 1, flow="bench.exchange")
    ]
    if any(p.wait(300) != 0 for p in running):
        raise RuntimeError("a bytewax process failed")
    return time.perf_counter() - started


def per_item_us(processes: int, few: int, many: int) -> float:
    """Microseconds per item, from the wall times over `few` and `many` items."""
    return (wall_s(many, processes) - wall_s(few, processes)) / (many - few) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--few", type=int, default=200_000)
    parser.add_argument("--many", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for _ in range(args.repeat):
        one = per_item_us(1, args.few, args.many)
        two = per_item_us(2, args.few, args.many)
        print(
            f"one process {one:.2f} us/item ({1e6 / one:,.0f}/s); "
            f"two processes {two:.2f} us/item ({1e6 / two:,.0f}/s): speedup {one / two:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
