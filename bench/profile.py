"""Where the dataflow's CPU goes: `python -m bench.profile [--actions N]` (needs py-spy on PATH).

Two views, both CPU rather than wall time so a busy machine skews them less:
- the pure domain cost per action (decode, rules, encode) timed with thread CPU time,
  which bounds what any one Python process can do with these rules, over 100 games and
  over the workload's `--games` (a thousand games' states do not fit in a core's caches);
- a py-spy profile of the real dataflow over the throughput workload, each sample
  put in one category (docs/benchmarks.md shows one).
"""

import argparse
import os
import subprocess
import tempfile
import time
from collections import Counter as Tally
from collections.abc import Callable
from pathlib import Path

from bytewax.testing import TestingSink, TestingSource, run_main

from bench import throughput
from bench.brokers import calibration
from bench.workload import Counter, key_presses, records
from dataflows import launch
from dataflows.games import build_flow, collect_rarely
from dataflows.records import Inbound
from domain.game import Game
from domain.lifecycle import next_record, started
from domain.models import Action
from domain.rules import next_game, start
from domain.timeouts import Limits
from domain.wire import StateEncoder, decode_record, encode_action
from infra.broker import EmbeddedBroker, free_port
from infra.settings import Settings

# First match wins, in this order: start-up and GC can sit under any frame.
CATEGORIES = (
    ("start-up (imports, building the flow)", ("_locate_dataflow", "importlib")),
    ("garbage collection", ("gc_collect_main",)),
    ("encode states (domain.wire)", ("encode_state", "StateEncoder")),
    ("rules (domain.rules, domain.lifecycle)", ("next_record", "next_game")),
    ("decode actions (domain.wire)", ("decode_action", "decode_record")),
    ("Kafka source", ("_ActionsPartition", "_ConsumerHub")),
    ("Kafka sink", ("_RoutedSinkPartition", "_CheckedProducer")),
    ("recovery snapshots (SQLite)", ("sqlite3", "rusqlite", "fsync")),
    ("operator glue (map/branch/key/stateful wrappers)", ("shim_", "on_batch", "_apply")),
)
OTHER = "bytewax runtime (Rust, timely), other"
EPOCH_MS = 1_700_000_000_000  # the log time of the first record the profile applies


def workload(games: int, per_game: int) -> list[Action]:
    """`per_game` key presses for each of `games` games, round-robin as the throughput workload sends them."""
    return list(key_presses(range(games), games * per_game))


def domain_us(games: int = 100, per_game: int = 200, repeat: int = 5) -> dict[str, float]:
    """CPU microseconds per action of each pure step, over the throughput workload's actions.

    The actions are `workload(games, per_game)`. The number of games matters as much as the code: over 1,000 games the same steps
    cost up to twice what they cost over 100, whose states all fit in a core's caches.

    - decode: `decode_record` (as the dataflow reads `actions`) of each action's wire bytes;
    - rules: `next_game` alone, with no time passing (the rules as the tests fold them);
    - lifecycle: `next_record`, what the dataflow calls per record, with a log time growing
      a millisecond per action (timeouts checked, no secret), actions without sessions;
    - seated: the same with each action carrying its player's session, as real players
      send them, so seats are claimed and kept alive by every accepted action;
    - encode: `StateEncoder.encode` of each state the lifecycle made (no seats taken);
    - encode_seated: the same for the seated lifecycle's states (ten seats, their times).

    The dataflow's path per action of real players is decode + seated + encode_seated.
    The best of `repeat` passes, each timed with thread CPU time, on the values the
    dataflow keeps (`Game`s, one `StateEncoder` per game), with its garbage-collector
    settings: the states kept here would otherwise make the collector's full passes a
    large part of what is measured.
    """
    collect_rarely()
    actions = workload(games, per_game)
    count = len(actions)
    raws = [encode_action(a) for a in actions]
    sessions = [a.model_copy(update={"session": f"s-{a.player}-xxxx"}) for a in actions]
    limits = Limits()

    def decode() -> None:
        for raw in raws:
            decode_record(raw)

    def rules() -> None:
        games: dict[int, Game] = {}
        for action in actions:
            game = games.get(action.game_id) or start(action.game_id)
            games[action.game_id] = next_game(game, action)

    def played(records: list[Action], after: list[Game] | None = None) -> None:
        games: dict[int, Game] = {}  # the latest state of each game, as the dataflow keeps them
        for now, record in enumerate(records, start=EPOCH_MS):
            game = games.get(record.game_id) or started(record.game_id, now)
            games[record.game_id] = game = next_record(game, record, now, limits, None)
            if after is not None:
                after.append(game)

    def lifecycle() -> None:
        played(actions)

    def seated() -> None:
        played(sessions)

    # every state, for the encoders: kept outside the timed runs (the flow keeps one a game)
    states: dict[str, list[Game]] = {"lifecycle": [], "seated": []}
    played(actions, states["lifecycle"])
    played(sessions, states["seated"])

    def encoded(after: list[Game]) -> None:
        encoders: dict[int, StateEncoder] = {}  # one per game, as the dataflow keeps them
        for game in after:
            encoder = encoders.get(game.arena.game_id)
            if encoder is None:
                encoder = encoders[game.arena.game_id] = StateEncoder()
            encoder.encode(game)

    def encode() -> None:
        encoded(states["lifecycle"])

    def encode_seated() -> None:
        encoded(states["seated"])

    steps = _steps(decode, rules, lifecycle, seated, encode, encode_seated)
    return {name: _best_us(step, count, repeat) for name, step in steps}


def flow_us(games: int = 100, per_game: int = 200, repeat: int = 3) -> float:
    """CPU microseconds per action of the whole flow on bytewax's testing source and sink.

    Decode, rules and encode plus the flow's own per-item work (Bytewax's operators and
    our glue between them), without Kafka at either end or recovery; the workload of
    `domain_us`.
    """
    collect_rarely()
    actions = workload(games, per_game)
    count = len(actions)
    inbound = [
        Inbound("actions", partition, offset, key, value)
        for offset, (partition, key, value) in enumerate(records(actions, 10))
    ]
    settings = Settings(partitions=10)

    def run() -> None:
        out: list[tuple[str, list[object]]] = []
        run_main(build_flow(TestingSource(inbound, batch_size=1000), TestingSink(out), settings))
        written = sum(len(batch) for _, batch in out)
        assert written == count, f"{written} records for {count} actions"

    return _best_us(run, count, repeat, clock=time.process_time)


def _steps(*steps: Callable[[], None]) -> list[tuple[str, Callable[[], None]]]:
    return [(step.__name__, step) for step in steps]


def _best_us(
    step: Callable[[], None],
    count: int,
    repeat: int,
    clock: Callable[[], float] = time.thread_time,
) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = clock()
        step()
        best = min(best, clock() - started)
    return best / count * 1e6


# A sample whose innermost frames are one of these is a thread waiting (for the GIL, a
# condition, a timer), not working: py-spy's --native samples them all the same.
WAITS = ("pthread_cond_timedwait", "pthread_cond_wait", "clock_nanosleep", "epoll_wait")


def categorise(raw_profile: Path) -> dict[str, float]:
    """Share of working samples per category, from py-spy's `raw` (collapsed stacks) output."""
    shares: Tally[str] = Tally()
    for line in raw_profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if any(wait in frame for frame in stack.split(";")[-3:] for wait in WAITS):
            continue
        name = next((c for c, marks in CATEGORIES if any(m in stack for m in marks)), OTHER)
        shares[name] += int(count)
    total = sum(shares.values()) or 1
    return {name: shares[name] / total for name, _ in (*CATEGORIES, (OTHER, ()))}


def profile_flow(actions: int, games: int, out: Path) -> float:
    """Run the dataflow over pre-loaded actions under py-spy; returns its steady actions/s."""
    with EmbeddedBroker(port=free_port(), tied=True, log_path=out.parent / "broker.log") as broker:
        loaded = throughput.load(
            broker.bootstrap_servers, out.parent, records(key_presses(range(games), actions), 10)
        )
        settings = loaded.settings
        with Counter(settings, settings.games_topic) as counter:
            flow = launch.start(settings, out.parent / "dataflow.log")
            pid = str(flow.pid)
            spy = subprocess.Popen(
                [
                    "py-spy",
                    "record",
                    "--native",
                    "--format",
                    "raw",
                    "--rate",
                    "200",
                    "-o",
                    str(out),
                    "-p",
                    pid,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                counter.until(loaded.count, 600, alive=flow.raise_if_exited)
            finally:
                flow.kill()
                spy.wait(60)
        from bench.workload import steady_rate

        return steady_rate(counter.timestamps_ms)


def print_costs(games: int, per_game: int, with_flow: bool) -> None:
    """The pure steps' costs over `games` games, and with `with_flow` the whole flow's beside them.

    The flow is timed over 100 games: its testing source's batches of 1,000 actions then
    hold about ten actions of each game, as the Kafka source's batches do under a backlog
    (over 1,000 games they would hold one, and Bytewax would wake a key per action).
    """
    costs = domain_us(games, per_game, repeat=5 if games <= 100 else 3)
    seated = costs["decode"] + costs["seated"] + costs["encode_seated"]
    keys = costs["decode"] + costs["lifecycle"] + costs["encode"]
    print(
        f"pure domain CPU per action over {games:,} games: "
        + ", ".join(f"{k} {v:.1f} us" for k, v in costs.items())
    )
    print(
        f"  players with sessions: decode + seated + encode_seated = {seated:.1f} us, "
        f"at most {1e6 / seated:,.0f} actions/s per process, framework free"
    )
    print(f"  the throughput workload: decode + lifecycle + encode = {keys:.1f} us")
    if not with_flow:
        return
    whole = flow_us(games, per_game)
    print(
        f"the flow on bytewax's testing source and sink, same workload: {whole:.1f} us per "
        f"action ({whole - keys:.1f} us of it the flow's own work: operators, roster, glue)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=100_000)
    parser.add_argument(
        "--games",
        type=int,
        default=1_000,
        help="games the workload plays (its costs are printed over 100 games too)",
    )
    parser.add_argument(
        "--per-game", type=int, default=200, help="actions per game in the CPU costs' workload"
    )
    parser.add_argument("--keep", type=Path, help="also keep py-spy's raw profile here")
    parser.add_argument(
        "--no-flow", action="store_true", help="only the CPU costs, no Kafka run under py-spy"
    )
    args = parser.parse_args()
    print(f"calibration: {calibration()}; load average {os.getloadavg()[0]:.2f}")
    for games in sorted({100, args.games}):
        print_costs(games, args.per_game, with_flow=games == 100)
    if args.no_flow:
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "profile.txt"
        rate = profile_flow(args.actions, args.games, out)
        print(f"dataflow under py-spy: {rate:,.0f} actions/s; CPU samples by category:")
        for name, share in categorise(out).items():
            print(f"  {share:6.1%}  {name}")
        if args.keep:
            args.keep.write_bytes(out.read_bytes())


if __name__ == "__main__":
    main()
