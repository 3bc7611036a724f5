"""Where the dataflow's CPU goes: `python -m bench.profile [--actions N]` (needs py-spy on PATH).

Two views, both CPU rather than wall time so a busy machine skews them less:
- the pure domain cost per action (decode, rules, encode) timed with thread CPU time,
  which bounds what any one Python process can do with these rules;
- a py-spy profile of the real dataflow over the throughput workload, each sample
  put in one category (docs/benchmarks.md shows one).
"""

import argparse
import subprocess
import tempfile
import time
from collections import Counter as Tally
from pathlib import Path

from bench import throughput
from bench.workload import Counter, key_presses, records
from dataflows import launch
from dataflows.games import collect_rarely
from domain.rules import new_game, next_state
from domain.wire import StateEncoder, decode_action, encode_action
from infra.broker import EmbeddedBroker, free_port

# First match wins, in this order: start-up and GC can sit under any frame.
CATEGORIES = (
    ("start-up (imports, building the flow)", ("_locate_dataflow", "importlib")),
    ("garbage collection", ("gc_collect_main",)),
    ("encode states (domain.wire)", ("encode_state", "StateEncoder")),
    ("rules (domain.rules)", ("next_state", "next_authentic_state")),
    ("decode actions (domain.wire)", ("decode_action",)),
    ("Kafka source", ("_ActionsPartition", "_ConsumerHub")),
    ("Kafka sink", ("_RoutedSinkPartition", "_CheckedProducer")),
    ("recovery snapshots (SQLite)", ("sqlite3", "rusqlite", "fsync")),
    ("operator glue (map/branch/key/stateful wrappers)", ("shim_", "on_batch", "_apply")),
)
OTHER = "bytewax runtime (Rust, timely), other"


def domain_us(count: int = 20_000) -> dict[str, float]:
    """CPU microseconds per action of each pure step, over the throughput workload's actions.

    With the dataflow's garbage-collector settings: the states kept here would
    otherwise make the collector's full passes a large part of what is measured.
    """
    collect_rarely()
    actions = list(key_presses(range(100), count))
    raws = [encode_action(a) for a in actions]
    states: dict[int, object] = {}
    after = []
    started = time.thread_time()
    for raw in raws:
        decode_action(raw)
    decode_s = time.thread_time() - started
    started = time.thread_time()
    for action in actions:
        state = states.get(action.game_id) or new_game(action.game_id)
        states[action.game_id] = state = next_state(state, action)  # type: ignore[arg-type]
        after.append(state)
    rules_s = time.thread_time() - started
    encoders: dict[int, StateEncoder] = {}  # one per game, as the dataflow keeps them
    started = time.thread_time()
    for state in after:
        encoder = encoders.get(state.game_id)  # type: ignore[attr-defined]
        if encoder is None:
            encoder = encoders[state.game_id] = StateEncoder()  # type: ignore[attr-defined]
        encoder.encode(state)  # type: ignore[arg-type]
    encode_s = time.thread_time() - started
    per = {"decode": decode_s, "rules": rules_s, "encode": encode_s}
    return {k: v / count * 1e6 for k, v in per.items()}


def categorise(raw_profile: Path) -> dict[str, float]:
    """Share of samples per category, from py-spy's `raw` (collapsed stacks) output."""
    shares: Tally[str] = Tally()
    for line in raw_profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        name = next((c for c, marks in CATEGORIES if any(m in stack for m in marks)), OTHER)
        shares[name] += int(count)
    total = sum(shares.values()) or 1
    return {name: shares[name] / total for name, _ in (*CATEGORIES, (OTHER, ()))}


def profile_flow(actions: int, games: int, out: Path) -> float:
    """Run the dataflow over pre-loaded actions under py-spy; returns its steady actions/s."""
    with EmbeddedBroker(port=free_port(), log_path=out.parent / "broker.log") as broker:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=100_000)
    parser.add_argument("--games", type=int, default=1_000)
    parser.add_argument("--keep", type=Path, help="also keep py-spy's raw profile here")
    args = parser.parse_args()
    costs = domain_us()
    total = sum(costs.values())
    print("pure domain CPU per action: " + ", ".join(f"{k} {v:.1f} us" for k, v in costs.items()))
    print(f"  = {total:.1f} us: at most {1e6 / total:,.0f} actions/s per process, framework free")
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
