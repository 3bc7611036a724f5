"""What a key costs Bytewax: `stateful_batch` over the same items spread over more or fewer keys.

    python -m bench.keyed [--items 300000] [--repeat 3]

Runs in this process with bytewax's testing source and sink: `items` items in
batches of 1,000, each batch spread round-robin over K keys (K = 1,000, 100, 10, 1),
through a `stateful_batch` whose logic does nothing but count and pass its batch on;
then the same items through no operator at all, the floor. The difference is what the
step costs per item. With one key a batch, that is the cost of an item inside a key's
batch; with 1,000 keys a batch every item wakes its own key, and the difference
between the two is the cost of waking a key (a call of `on_batch` and Bytewax's
bookkeeping around it). The game step is keyed by game, and a read of 1,000 actions over
1,000 games wakes about one key per action: this cost is then paid per action
(docs/benchmarks.md). CPU time of this thread, best of `repeat`, no Kafka, no recovery.
"""

import argparse
import time

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.operators import StatefulBatchLogic
from bytewax.testing import TestingSink, TestingSource, run_main

from bench.brokers import calibration

BATCH = 1_000
KEYS = (1_000, 100, 10, 1)


class _Counting(StatefulBatchLogic[int, list[int], int]):
    """Counts its calls; passes each batch on whole."""

    calls = 0

    def __init__(self, resume: int | None) -> None:
        self._seen = resume or 0

    def on_batch(self, values: list[int]) -> tuple[list[list[int]], bool]:
        _Counting.calls += 1
        self._seen += len(values)
        return [values], False

    def snapshot(self) -> int:
        return self._seen


def _flow(items: int, keys: int, keyed: bool) -> Dataflow:
    flow = Dataflow("keyed")
    source = TestingSource([(str(i % keys), i) for i in range(items)], batch_size=BATCH)
    stream = op.input("items", flow, source)
    if keyed:
        stream = op.stateful_batch("step", stream, _Counting)
    op.output("drop", stream, TestingSink([]))
    return flow


def _cpu_s(items: int, keys: int, keyed: bool) -> float:
    flow = _flow(items, keys, keyed)
    start = time.thread_time()
    run_main(flow)
    return time.thread_time() - start


def measure(items: int, keys: int, repeat: int) -> tuple[float, int]:
    """(us per item of the step, calls to `on_batch`), best of `repeat`."""
    floor = min(_cpu_s(items, keys, keyed=False) for _ in range(repeat))
    best, calls = float("inf"), 0
    for _ in range(repeat):
        _Counting.calls = 0
        best = min(best, _cpu_s(items, keys, keyed=True))
        calls = _Counting.calls
    return max(best - floor, 0.0) / items * 1e6, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.items < BATCH or args.repeat < 1:
        parser.error(f"--items must be at least {BATCH} and --repeat at least 1")
    print(f"calibration: {calibration()}")
    print(f"{args.items:,} items in batches of {BATCH:,}, one stateful_batch step\n")
    print("| keys per batch | calls to on_batch | the step, us per item |")
    print("| --- | --- | --- |")
    per_item: dict[int, float] = {}
    for keys in KEYS:
        per_item[keys], calls = measure(args.items, keys, args.repeat)
        print(f"| {keys:,} | {calls:,} | {per_item[keys]:.2f} |", flush=True)
    woken = per_item[max(KEYS)] - per_item[min(KEYS)]
    print(f"\nan item in a key's batch: {per_item[min(KEYS)]:.2f} us; waking a key: {woken:.2f} us")


if __name__ == "__main__":
    main()
