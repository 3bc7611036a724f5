"""Throughput of the games dataflow by process and worker count: the figures in docs/scaling.md.

    python -m bench.scaling [--games 100] [--small 20] [--large 400] [--repeat 3]

Starts the embedded broker and pre-loads two backlogs of the same games (`--small` and
`--large` actions per game) into two `actions` topics. For each cluster shape it runs
`python -m bytewax.run dataflows.games -w W [-i I -a ...]` with recovery on (as
deployed) over each backlog, with a fresh `games` topic and recovery store, and times
it from process start until every state is back. Throughput is the difference of the
two backlogs over the difference of the two times, so start-up (imports, the cluster
handshake, listing partitions) and the last epoch's flush cancel out. Shapes are
interleaved across repeats so background load spreads over all of them. Not a test.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from bench.workload import fresh_settings, key_presses, produce_all, records
from dataflows import launch
from dataflows.process import Process
from infra.broker import EmbeddedBroker, free_port
from infra.kafka import consumer_config, create_topics
from infra.settings import Settings

SHAPES = [(1, 1), (1, 2), (2, 1), (1, 10)]  # (processes, workers per process)


@dataclass(frozen=True)
class Run:
    """One cluster over one backlog: seconds from start to the last state, and CPU used."""

    total_s: float
    cpu_s: float


def wait_for_states(settings: Settings, count: int, timeout_s: float) -> None:
    """Return once `count` states are on `games`; counts them, never decodes (it shares the CPU)."""
    consumer = Consumer(consumer_config(settings))
    consumer.assign(
        [TopicPartition(settings.games_topic, p, 0) for p in range(settings.partitions)]
    )
    seen = 0
    deadline = time.monotonic() + timeout_s
    try:
        while seen < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{seen}/{count} states after {timeout_s}s")
            seen += sum(1 for m in consumer.consume(10_000, 0.05) if m.error() is None)
    finally:
        consumer.close()


def cpu_seconds(flow: Process) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{flow.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(backlog: Settings, work: Path, processes: int, workers: int, count: int) -> Run:
    settings = backlog.model_copy(
        update={"games_topic": f"games-{uuid.uuid4().hex[:8]}", "data_dir": work / uuid.uuid4().hex}
    )
    create_topics(settings)
    start = time.monotonic()
    flows = launch.start_cluster(settings, work, processes, workers, name=settings.games_topic)
    try:
        wait_for_states(settings, count, timeout_s=600)
        total = time.monotonic() - start
        cpu = sum(cpu_seconds(flow) for flow in flows)
    finally:
        for flow in flows:
            flow.kill()
    return Run(total, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=100)
    parser.add_argument("--small", type=int, default=20, help="actions per game, small backlog")
    parser.add_argument("--large", type=int, default=400, help="actions per game, large backlog")
    parser.add_argument("--partitions", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        EmbeddedBroker(port=free_port(), tied=True) as broker,
    ):
        work = Path(tmp)
        backlogs: dict[int, Settings] = {}
        for per_game in (args.small, args.large):
            backlog = fresh_settings(broker.bootstrap_servers, work, partitions=args.partitions)
            # a fifth of them throws, as when the figures in docs/scaling.md were taken
            actions = key_presses(range(args.games), args.games * per_game, seed=7, throws=0.2)
            count = produce_all(backlog, backlog.actions_topic, records(actions, args.partitions))
            backlogs[count] = backlog
        small, large = sorted(backlogs)
        print(
            f"backlogs of {small} and {large} actions over {args.games} games, "
            f"P={args.partitions}, {os.cpu_count()} cores"
        )
        runs: dict[tuple[int, int, int], list[Run]] = {}
        for attempt in range(args.repeat):
            for processes, workers in SHAPES:
                for count, backlog in backlogs.items():
                    load = os.getloadavg()[0]
                    run = run_once(backlog, work, processes, workers, count)
                    runs.setdefault((processes, workers, count), []).append(run)
                    print(
                        f"  #{attempt} {processes} process(es) x -w {workers}, {count} actions: "
                        f"{run.total_s:.1f}s, CPU {run.cpu_s:.1f}s (load {load:.1f})",
                        flush=True,
                    )
        print("\nprocesses | -w | actions/s | CPU ms per action | start-up s (medians)")
        for processes, workers in SHAPES:
            t = {
                c: statistics.median(r.total_s for r in runs[processes, workers, c])
                for c in backlogs
            }
            cpu = {
                c: statistics.median(r.cpu_s for r in runs[processes, workers, c]) for c in backlogs
            }
            rate = (large - small) / (t[large] - t[small])
            cpu_ms = 1000 * (cpu[large] - cpu[small]) / (large - small)
            startup = t[small] - small / rate
            print(f"{processes} | {workers} | {rate:,.0f} | {cpu_ms:.2f} | {startup:.1f}")


if __name__ == "__main__":
    sys.exit(main())
