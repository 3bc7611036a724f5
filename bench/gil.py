"""The GIL alone: pure-Python work per item, no Kafka, no state, nothing exchanged.

    python -m bench.gil [--items 400] [--ms 5] [--repeat 3]

Runs `python -m bytewax.run "bench.gil:flow(items, ms)"` as 1 process -w 1,
1 process -w 2 and 2 processes -w 1. Each of 4 input partitions yields `items / 4`
items, and each item costs `ms` of pure-Python CPU on the worker that reads it, so
the only thing that differs between shapes is how many interpreters share the work.
Wall time runs from process start to exit (the input ends); a run with no work is
subtracted. Not a test: it prints a table (figures in docs/scaling.md).
"""

import argparse
import statistics
import subprocess
import time

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from bench.exchange import DropSink
from dataflows import launch

PARTS = 4


class _Numbers(StatefulSourcePartition[int, int]):
    def __init__(self, count: int, start: int) -> None:
        self._next, self._count = start, count

    def next_batch(self) -> list[int]:
        if self._next >= self._count:
            raise StopIteration
        self._next += 1
        return [self._next]

    def snapshot(self) -> int:
        return self._next


class Numbers(FixedPartitionedSource[int, int]):
    """`PARTS` partitions of `count` numbers each."""

    def __init__(self, count: int) -> None:
        self._count = count

    def list_parts(self) -> list[str]:
        return [str(i) for i in range(PARTS)]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _Numbers:
        return _Numbers(self._count, resume_state or 0)


def burn(ms: float, item: int) -> int:
    """About `ms` of pure-Python CPU, holding the GIL throughout."""
    deadline = time.thread_time() + ms / 1000
    total = item
    while time.thread_time() < deadline:
        total = (total * 31 + 7) % 1_000_003
    return total


def flow(items: int, ms: float) -> Dataflow:
    built = Dataflow("gil")
    numbers = op.input("numbers", built, Numbers(items // PARTS))
    done = op.map("burn", numbers, lambda item: burn(ms, item))
    op.output("discard", done, DropSink())
    return built


def run(processes: int, workers: int, items: int, ms: float) -> float:
    """Seconds from start until every process of the cluster has exited."""
    flow = f"bench.gil:flow({items}, {ms})"
    start = time.monotonic()
    procs = [
        subprocess.Popen(argv, cwd=launch.REPO_ROOT)
        for argv in launch.cluster(processes, workers, flow)
    ]
    for proc in procs:
        if proc.wait(timeout=600) != 0:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--ms", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    shapes = [(1, 1), (1, 2), (2, 1)]
    work_s = args.items * args.ms / 1000
    print(f"{args.items} items x {args.ms} ms of pure Python = {work_s:.1f} s of CPU work")
    results: dict[tuple[int, int], list[float]] = {s: [] for s in shapes}
    for _ in range(args.repeat):
        for shape in shapes:
            busy = run(*shape, args.items, args.ms) - run(*shape, args.items, 0.0)
            results[shape].append(busy)
            print(f"  {shape[0]} process(es) x -w {shape[1]}: {busy:.2f} s", flush=True)
    print("\nprocesses | -w | seconds of work (median) | speed-up over 1 x 1")
    base = statistics.median(results[1, 1])
    for (processes, workers), times in results.items():
        median = statistics.median(times)
        print(f"{processes} | {workers} | {median:.2f} | {base / median:.2f}x")


if __name__ == "__main__":
    main()
