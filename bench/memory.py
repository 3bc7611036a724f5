"""Memory of the games dataflow: bytes per game held in state, and RSS over time at steady load.

The full runs (figures in docs/reliability.md), each on its own embedded broker:

    python -m bench.memory per-game --games 50000
    python -m bench.memory steady --games 100 --rate 300 --actions 1080000   # one hour

The steady run batches a second of actions per partition and fetches once a second
(`--batch-ms`): the embedded broker (Tansu 0.6) lists every record batch of a partition
on each fetch, so an hour of one-message batches slows it to a stall (docs/reliability.md).
The dataflow still sees the same actions and takes the same one-second epochs.

tests/test_memory.py runs shorter ones in CI.
"""

import argparse
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

from bench.soak import ActionFeed, GamesLog
from bench.workload import fresh_settings, key_presses, rss_bytes
from dataflows import launch
from dataflows.games import GameLogic, Routes
from dataflows.process import Process
from dataflows.records import Decoded, Inbound
from infra.broker import EmbeddedBroker, free_port
from infra.settings import Settings

THROWS = 0.005  # rare, so games last and their states stay in memory


def state_bytes_per_game(games: int = 2000, actions_per_game: int = 20) -> float:
    """Python heap bytes per game as `game_state` holds it (a GameLogic with its state), traced."""
    actions = list(key_presses(range(games), games * actions_per_game, seed=1, throws=THROWS))
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    logics: dict[str, GameLogic] = {}
    routes = Routes("games", "actions.dlq", 10)
    for action in actions:
        key = str(action.game_id)
        logic = logics.get(key) or GameLogic(None, routes)
        logic.on_batch([[Decoded(action, Inbound("actions", 0, 0, None, b""))]])  # one batch of one
        logics[key] = logic
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / games


def drain(log: GamesLog, flow: Process, total: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while log.count < total:
        assert time.monotonic() < deadline, f"{log.count} of {total} states in {timeout_s}s"
        flow.raise_if_exited()
        log.poll()


def rss_per_game(settings: Settings, log_dir: Path, games: int, workers: int = 1) -> float:
    """RSS growth of the real dataflow per game: 100 games as a baseline, then `games` more."""
    flow = launch.start(settings, log_dir / "per-game.log", workers=workers)
    log = GamesLog(settings, keep=False)
    try:
        warm = list(key_presses(range(100), 300, seed=2, throws=THROWS))
        ActionFeed(settings, iter(warm), rate=10_000).start()
        drain(log, flow, len(warm), 120)
        before = rss_bytes(flow.pid)
        fresh = range(1_000_000, 1_000_000 + games)
        feed = ActionFeed(settings, key_presses(fresh, games, seed=3, throws=THROWS), rate=5_000)
        feed.start()
        drain(log, flow, len(warm) + games, 60 + games / 200)
        # one more epoch so the snapshot of the last games is taken and its garbage freed
        extra = list(key_presses(range(100), 100, seed=4, throws=THROWS))
        ActionFeed(settings, iter(extra), rate=10_000).start()
        drain(log, flow, len(warm) + games + len(extra), 60)
        feed.done()
        return (rss_bytes(flow.pid) - before) / games
    finally:
        log.close()
        flow.kill()


@dataclass
class SteadyReport:
    games: int
    rate: float
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds, RSS bytes)
    actions: int = 0

    def thirds(self) -> tuple[float, float, float]:
        """Median RSS (MiB) of the first, middle and last third of the samples."""
        values = [r / 2**20 for _, r in self.samples]
        n = len(values) // 3
        return (
            statistics.median(values[:n]),
            statistics.median(values[n : 2 * n]),
            statistics.median(values[2 * n :]),
        )

    def summary(self) -> str:
        first, middle, last = self.thirds()
        seconds = self.samples[-1][0] if self.samples else 0
        return (
            f"steady load: {self.games} games, {self.rate:.0f} actions/s, {self.actions} actions "
            f"in {seconds:.0f} s; RSS median per third: {first:.1f} / {middle:.1f} / {last:.1f} MiB"
        )


def rss_at_steady_load(
    settings: Settings,
    log_dir: Path,
    games: int,
    rate: float,
    actions: int,
    workers: int = 1,
    sample_s: float = 1.0,
    batch_ms: float = 1,
    say=lambda line: None,
) -> SteadyReport:
    """`actions` over a fixed set of `games` at `rate`/s; the dataflow's RSS sampled every `sample_s`.

    `batch_ms` is both how long the feed gathers actions into a batch and how long every
    consumer's fetch waits (at least the settings' own wait).
    """
    report = SteadyReport(games, rate)
    wait_ms = max(settings.fetch_wait_max_ms, int(batch_ms))
    settings = settings.model_copy(update={"fetch_wait_max_ms": wait_ms})
    flow = launch.start(settings, log_dir / "steady.log", workers=workers)
    log = GamesLog(settings, keep=False)
    script = key_presses(range(games), actions, seed=5, throws=THROWS)
    feed = ActionFeed(settings, script, rate, linger_ms=batch_ms).start()
    started = time.monotonic()
    next_sample = started
    try:
        while not (feed.done() and log.count >= actions):
            flow.raise_if_exited()
            log.poll(0.1)
            now = time.monotonic()
            if now >= next_sample:
                report.samples.append((now - started, rss_bytes(flow.pid)))
                next_sample += sample_s
                if len(report.samples) % 60 == 0:
                    say(f"{now - started:.0f} s: {report.samples[-1][1] / 2**20:.1f} MiB")
            # a consumer that falls behind is the flow's problem, not memory; bound the wait
            assert now - started < 3 * actions / rate + 120, "the dataflow could not keep up"
        report.actions = log.count
    finally:
        feed.stop()
        log.close()
        flow.kill()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.memory", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    per_game = sub.add_parser("per-game", help="bytes per game in state, and games per process")
    per_game.add_argument("--games", type=int, default=50_000)
    steady = sub.add_parser("steady", help="RSS over time at steady load")
    steady.add_argument("--games", type=int, default=100)
    steady.add_argument("--rate", type=float, default=300.0)
    steady.add_argument("--actions", type=int, default=216_000)
    steady.add_argument(
        "--batch-ms", type=float, default=1000, help="feed batching and fetch wait (see above)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="moba-memory-") as tmp:
        root = Path(tmp)
        with EmbeddedBroker(port=free_port(), tied=True, log_path=root / "broker.log") as broker:
            settings = fresh_settings(broker.bootstrap_servers, root / "data")
            if args.command == "per-game":
                traced = state_bytes_per_game()
                per = rss_per_game(settings, root, args.games)
                print(f"traced Python heap per game: {traced / 1024:.1f} KiB")
                print(f"dataflow RSS per game ({args.games} games): {per / 1024:.1f} KiB")
                print(f"games per GiB of RSS: {2**30 / per:,.0f}")
            else:
                report = rss_at_steady_load(
                    settings,
                    root,
                    args.games,
                    args.rate,
                    args.actions,
                    batch_ms=args.batch_ms,
                    say=lambda line: print(line, flush=True),
                )
                print(report.summary())
                for seconds, value in report.samples[:: max(1, len(report.samples) // 12)]:
                    print(f"  {seconds:6.0f} s  {value / 2**20:7.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
