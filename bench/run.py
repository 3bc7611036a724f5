"""The whole benchmark: one embedded broker, then every measurement `repeat` times, each beside its limit."""

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import gateway, latency, lifecycle, query, throughput
from bench.brokers import calibration
from bench.report import Results, percentile
from bench.workload import fresh_settings, key_presses, records
from dataflows import launch
from infra.broker import EmbeddedBroker, free_port

Say = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    """How big each measurement is; the defaults are those of the published figures."""

    repeat: int = 3
    actions: int = 200_000
    games: int = 1_000
    live_games: int = 10_000
    samples: int = 1_000
    load_rate: float = 2_000
    api_requests: int = 1_000
    gateway_load: gateway.Load = field(default_factory=gateway.Load)

    @classmethod
    def quick(cls, repeat: int = 1) -> "Plan":
        few = gateway.Load(players=20, games=2, rate=3.0, seconds=3.0)
        return cls(repeat, 20_000, 100, 1_000, 100, 500, 200, few)


def moba_command() -> list[str]:
    """This environment's `moba` script, or the same entry point through this interpreter."""
    script = Path(sys.executable).with_name("moba")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from cli.main import app; sys.exit(app())"]


def run(plan: Plan, say: Callable[[str], None]) -> Results:
    results = Results()
    moba = moba_command()
    root = Path(tempfile.mkdtemp(prefix="moba-bench-"))
    try:
        with EmbeddedBroker(port=free_port(), tied=True, log_path=root / "broker.log") as broker:
            servers = broker.bootstrap_servers
            say(f"broker {servers}; work dir {root}")
            say(f"calibration: {calibration()}; load average {os.getloadavg()[0]:.2f}")
            workload = records(key_presses(range(plan.games), plan.actions), 10)
            for i in range(1, plan.repeat + 1):
                say(f"repeat {i}/{plan.repeat}")
                for measure in (_throughput, _latency, _lifecycle, _gateway):
                    try:
                        measure(plan, servers, root, workload, moba, results, say)
                    except (TimeoutError, RuntimeError, OSError, subprocess.SubprocessError) as err:
                        # one stalled run must not lose the others; its figures stay absent
                        say(f"  {measure.__name__[1:]} failed in this repeat: {err}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return results


def _throughput(
    plan: Plan,
    servers: str,
    root: Path,
    workload: list,
    moba: list[str],
    results: Results,
    say: Say,
) -> None:
    loaded = throughput.load(servers, root, workload)
    limit = throughput.passthrough_rate(loaded)
    one = throughput.dataflow_rate(loaded, root / "one")
    ceiling = throughput.speedup_ceiling(one)
    say(
        f"  throughput: dataflow {one.actions_per_s:,.0f}/s, pass-through limit {limit:,.0f}/s; "
        f"{one.busy_cores:.2f} cores busy"
    )
    results.add("throughput.actions_per_s", one.actions_per_s, limit, "actions/s pass-through")
    results.add("throughput.limit_per_s", limit)
    results.add("throughput.ratio", one.actions_per_s / limit)
    results.add("throughput.two_process_ceiling", ceiling)
    # what the README used to tell people to type: ten worker threads in one process
    ten = throughput.dataflow_rate(
        throughput.load(servers, root, workload), root / "ten", workers=10
    )
    say(f"  throughput: -w 10 {ten.actions_per_s:,.0f}/s; {ten.busy_cores:.2f} cores busy")
    results.add("throughput.w10_per_s", ten.actions_per_s, one.actions_per_s, "actions/s with -w 1")
    two = throughput.dataflow_rate(throughput.load(servers, root, workload), root / "two", 2)
    say(f"  throughput: two processes {two.actions_per_s:,.0f}/s; {two.busy_cores:.2f} cores busy")
    results.add(
        "throughput.two_process_speedup",
        two.actions_per_s / one.actions_per_s,
        ceiling,
        "x ceiling: cores / cores busy at one process",
    )


def _latency(
    plan: Plan,
    servers: str,
    root: Path,
    workload: list,
    moba: list[str],
    results: Results,
    say: Say,
) -> None:
    settings = fresh_settings(servers, root)
    raw = latency.raw_round_trip(settings, plan.samples)
    flow = launch.start(settings, root / "latency.log")
    try:
        latency.wait_first_state(flow, settings)
        idle = latency.closed_loop(settings, plan.samples)
        with latency.background_load(settings, plan.load_rate):
            trips = latency.loaded_round_trips(settings, plan.samples)
    finally:
        flow.kill()
    loaded, raw_loaded = trips.game, trips.raw
    raw50, raw99 = percentile(raw, 50), percentile(raw, 99)
    raw_loaded99 = percentile(raw_loaded, 99)
    letter99 = percentile(trips.dead_letter, 99)
    say(
        f"  latency: p50 {percentile(idle, 50):.1f} p99 {percentile(idle, 99):.1f} ms idle, "
        f"p99 {percentile(loaded, 99):.1f} loaded ({len(loaded)} answered in the time budget); "
        f"raw p50 {raw50:.1f} p99 {raw99:.1f}, p99 {raw_loaded99:.1f} loaded; "
        f"dead letter p99 {letter99:.1f} loaded"
    )
    results.add("latency.p50_ms", percentile(idle, 50), raw50, "ms raw round trip p50")
    results.add("latency.p99_ms", percentile(idle, 99), raw99, "ms raw round trip p99")
    results.add(
        "latency.loaded_p99_ms", percentile(loaded, 99), raw_loaded99, "ms raw p99, same load"
    )
    results.add("latency.raw_p50_ms", raw50)
    results.add("latency.raw_p99_ms", raw99)
    results.add("latency.raw_loaded_p99_ms", raw_loaded99)
    results.add("latency.dead_letter_loaded_p99_ms", letter99)
    results.samples_ms["idle"] += idle
    results.samples_ms["loaded"] += loaded
    results.samples_ms["raw"] += raw
    results.samples_ms["raw loaded"] += raw_loaded
    results.samples_ms["dead letter loaded"] += trips.dead_letter


def _lifecycle(
    plan: Plan,
    servers: str,
    root: Path,
    workload: list,
    moba: list[str],
    results: Results,
    say: Say,
) -> None:
    broker_s = lifecycle.broker_start_s(root)
    up_s = lifecycle.up_s(root, moba)
    say(f"  startup: moba up {up_s:.2f} s (broker alone {broker_s:.2f} s)")
    results.add("startup.up_s", up_s, broker_s, "s embedded broker alone")

    settings = fresh_settings(servers, root)
    bare_s = lifecycle.bare_first_message_s(settings)
    first = lifecycle.first_state(settings, root)
    say(f"  startup: first state {first.seconds:.2f} s (bare process {bare_s:.2f} s)")
    results.add("startup.first_state_s", first.seconds, bare_s, "s bare read-one-write-one process")

    settings = fresh_settings(servers, root)
    live = lifecycle.live_games(settings, root, plan.live_games)
    say(f"  recovery: resume {live.resume_s:.2f} s; memory {live.rss_mb:.0f} MB")
    results.add("recovery.resume_s", live.resume_s, bare_s, "s bare read-one-write-one process")
    results.add("memory.rss_mb_10k_games", live.rss_mb, first.rss_mb, "MB with one game")

    show = min(query.show_s(moba, settings.data_dir, g) for g in (1, 2, 3))
    python_s = min(query.interpreter_s() for _ in range(3))
    api = query.Api(moba, settings.data_dir, root / "api.log")
    try:
        api.wait_ready()
        api.latencies_ms(query.game_paths(plan.live_games, 50))  # warm-up
        games = api.latencies_ms(query.game_paths(plan.live_games, plan.api_requests))
        health = api.latencies_ms(["/health"] * plan.api_requests)
    finally:
        api.close()
    say(
        f"  query: games show {show:.2f} s (python -c pass {python_s:.2f} s); "
        f"GET /games/id p99 {percentile(games, 99):.1f} ms (/health {percentile(health, 99):.1f})"
    )
    results.add("query.cli_s", show, python_s, "s python -c pass")
    results.add(
        "query.api_p99_ms", percentile(games, 99), percentile(health, 99), "ms GET /health p99"
    )


def _gateway(
    plan: Plan,
    servers: str,
    root: Path,
    workload: list,
    moba: list[str],
    results: Results,
    say: Say,
) -> None:
    gw, direct = gateway.measure(servers, root, plan.gateway_load, say)
    bound = 1000 / max(gw.linger_ms or 1, 1)
    results.add("gateway.p50_ms", gw.p50_ms, direct.p50_ms, "ms direct Kafka clients p50")
    results.add("gateway.p99_ms", gw.p99_ms, direct.p99_ms, "ms direct Kafka clients p99")
    results.add(
        "gateway.batches_per_partition_s",
        gw.batches_per_partition_s,
        bound,
        f"batches/s a {gw.linger_ms} ms linger allows",
    )
    for key, value in gateway.figures([gw, direct]).items():
        if key not in ("gateway.p50_ms", "gateway.p99_ms", "gateway.batches_per_partition_s"):
            results.add(key, value)
