"""The gateway under load, beside direct Kafka clients: the same players, intents and schedule.

`python -m bench.gateway` (1,000 players in 100 games at 3 intents/s each for 60 s) or
`--quick` (100 players, 10 s). One embedded broker; each side gets fresh topics and its
own dataflow, then: the broker's raw round trip on an `actions` partition, the load, the
raw round trip again. Reported per side: intent->state p50/p99, record batches per
second per `actions` partition (read from the broker's log), the cores each process and
the whole machine kept busy meanwhile (the machine may be shared), and for the gateway
its memory per socket (RSS growth while the sockets connect / sockets). The machine's
speed (`python -m timeit "sum((1,2,3))"`) is printed before and after, as other benches do.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.batches import read_batches
from bench.brokers import calibration
from bench.latency import raw_round_trip, wait_first_state
from bench.players import DirectPlayers, Seat, SocketPlayers, Tally, seats
from bench.report import GATEWAY_KEYS, percentile
from bench.workload import MachineCpu, cpu_seconds, fresh_settings, rss_bytes
from dataflows import launch
from dataflows.process import Process
from infra.broker import EmbeddedBroker, free_port
from infra.settings import Settings

Say = Callable[[str], None]
RAW_SAMPLES = 50
DRAIN_S = 15.0
SIDES = ("gateway", "direct")


@dataclass(frozen=True)
class Load:
    """How many players, in how many games, at what rate each, for how long; by default the load the gateway is promised to hold."""

    players: int = 1000
    games: int = 100
    rate: float = 3.0
    seconds: float = 60.0

    @classmethod
    def quick(cls) -> "Load":
        return cls(players=100, games=10, rate=3.0, seconds=10.0)


@dataclass
class Side:
    """One side's figures: latencies in ms, batches per partition per second, raw round trips."""

    name: str
    sent: int
    answered: int
    undelivered: int
    p50_ms: float
    p99_ms: float
    batches_per_partition_s: float
    batches_per_partition_s_max: float
    records_per_batch: float
    written_per_s: float  # intents the broker took during the load, per second
    raw_start_p50_ms: float
    raw_start_p99_ms: float
    raw_end_p50_ms: float
    raw_end_p99_ms: float
    cores: dict[str, float] = field(default_factory=dict)
    rss_per_socket_kb: float | None = None
    rss_end_mb: float | None = None
    linger_ms: int | None = None  # the gateway producer's

    @property
    def gateway_us_per_intent(self) -> float | None:
        """The gateway's CPU per intent written, its fan-out of the state included (µs)."""
        if "gateway" not in self.cores or not self.written_per_s:
            return None
        return self.cores["gateway"] / self.written_per_s * 1e6

    @property
    def answered_ratio(self) -> float:
        """The share of intents whose state came back (within the drain after the load)."""
        return self.answered / max(self.sent, 1)


class Window:
    """The load's time window: wall clock (to pick batches by timestamp) and each process's CPU."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def __enter__(self) -> "Window":
        self.started, self._t0 = time.time(), time.perf_counter()
        self._cpu0 = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._machine = MachineCpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.ended, elapsed = time.time(), time.perf_counter() - self._t0
        self.cores = {
            name: (cpu_seconds(pid) - self._cpu0[name]) / elapsed for name, pid in self.pids.items()
        }
        self.cores["machine"] = self._machine.busy_cores()  # other work on a shared machine too


def run(load: Load, say: Say, sides: tuple[str, ...] = SIDES) -> list[Side]:
    """`measure` on an embedded broker of its own, in a scratch directory removed at the end."""
    with (
        tempfile.TemporaryDirectory(prefix="moba-bench-gateway-") as tmp,
        EmbeddedBroker(port=free_port(), tied=True, log_path=Path(tmp) / "broker.log") as broker,
    ):
        assert broker.process is not None
        pid = broker.process.pid
        return measure(broker.bootstrap_servers, Path(tmp), load, say, sides, broker_pid=pid)


def measure(
    servers: str,
    root: Path,
    load: Load,
    say: Say,
    sides: tuple[str, ...] = SIDES,
    broker_pid: int | None = None,
) -> list[Side]:
    """The sides asked for (the gateway first) on the broker at `servers`, each on fresh topics."""
    players = seats(load.players, load.games)
    say(f"  gateway load: {len(players)} players in {load.games} games, {load.rate}/s each")
    done = []
    for name in sides:
        settings = fresh_settings(servers, root)
        with dataflow(settings, root / f"dataflow-{name}.log") as flow:
            pids = {"dataflow": flow.pid, "players": os.getpid()}
            if broker_pid is not None:
                pids["broker"] = broker_pid
            side = (_gateway_side if name == "gateway" else _direct_side)(
                settings, root, players, load, pids, say
            )
        say("  " + line(side))
        done.append(side)
    return done


@contextmanager
def dataflow(settings: Settings, log: Path) -> Iterator[Process]:
    flow = launch.start(settings, log)
    try:
        wait_first_state(flow, settings)
        yield flow
    finally:
        flow.kill()


@contextmanager
def gateway(
    settings: Settings, log: Path, timeout_s: float = 60.0
) -> Iterator[tuple[Process, int]]:
    """`moba api` (the gateway) as its own process on a free port, until it answers /health.

    Yields the process and its port.
    """
    settings = settings.model_copy(update={"api_port": free_port(), "api_host": "127.0.0.1"})
    env = launch.environment(settings, recovery=False)
    process = Process.start("gateway", [sys.executable, "-m", "cli", "api"], log, env=env)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            process.raise_if_exited()
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{settings.api_port}/health", timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("the gateway never answered /health") from None
                time.sleep(0.1)  # a port not listening yet has nothing to block on
        yield process, settings.api_port
    finally:
        process.stop()


def _gateway_side(
    settings: Settings, root: Path, players: list[Seat], load: Load, pids: dict[str, int], say: Say
) -> Side:
    with gateway(settings, root / "gateway.log") as (process, port):
        raw_start = _raw(settings)
        window = Window({"gateway": process.pid, **pids})

        async def drive() -> tuple[Tally, float, float]:
            sockets = SocketPlayers(f"ws://127.0.0.1:{port}", players)
            before = rss_bytes(process.pid)
            await sockets.connect()
            per_socket = (rss_bytes(process.pid) - before) / len(players)
            say(f"  gateway: {len(players)} sockets open, {per_socket / 1024:.0f} KB each")
            with window:
                await sockets.play(load.rate, load.seconds)
            await sockets.drain(DRAIN_S)
            end_rss = rss_bytes(process.pid)
            await sockets.close()
            return sockets.tally, per_socket, end_rss

        tally, per_socket, end_rss = asyncio.run(drive())
        raw_end = _raw(settings)
    side = _side("gateway", settings, tally, raw_start, raw_end, window)
    side.rss_per_socket_kb = per_socket / 1024
    side.rss_end_mb = end_rss / 2**20
    side.linger_ms = settings.gateway_linger_ms
    return side


def _direct_side(
    settings: Settings, root: Path, players: list[Seat], load: Load, pids: dict[str, int], say: Say
) -> Side:
    raw_start = _raw(settings)
    direct = DirectPlayers(settings, players)
    window = Window(pids)
    try:
        direct.connect()
        say(f"  direct: {len(direct.games)} producer and consumer pairs ready")
        with window:
            direct.play(load.rate, load.seconds)
        direct.drain(DRAIN_S)
    finally:
        direct.close()
    raw_end = _raw(settings)
    return _side("direct", settings, direct.tally, raw_start, raw_end, window)


def _raw(settings: Settings) -> list[float]:
    """Raw round trips on partition 0 of `actions`: the broker alone, on a partition in play.

    One not back within 10 s counts as 10 s, and after 30 s it stops with fewer: a broker
    that slow is the finding.
    """
    return raw_round_trip(
        settings, RAW_SAMPLES, topic=settings.actions_topic, partition=0, strict=False, budget_s=30
    )


def _side(
    name: str,
    settings: Settings,
    tally: Tally,
    raw_start: list[float],
    raw_end: list[float],
    window: Window,
) -> Side:
    seconds = window.ended - window.started
    low, high = int(window.started * 1000), int(window.ended * 1000)
    rates, sizes = [], []
    for partition in range(settings.partitions):
        batches = [
            b
            for b in read_batches(settings.bootstrap_servers, settings.actions_topic, partition)
            if low <= b.max_timestamp_ms <= high
        ]
        rates.append(len(batches) / seconds)
        sizes += [b.records for b in batches]
    lat = tally.latencies_ms or [float("nan")]
    return Side(
        name=name,
        sent=tally.sent,
        answered=tally.answered,
        undelivered=tally.undelivered,
        p50_ms=percentile(lat, 50),
        p99_ms=percentile(lat, 99),
        batches_per_partition_s=statistics.mean(rates),
        batches_per_partition_s_max=max(rates),
        records_per_batch=statistics.mean(sizes) if sizes else 0.0,
        written_per_s=sum(sizes) / seconds,
        raw_start_p50_ms=percentile(raw_start, 50),
        raw_start_p99_ms=percentile(raw_start, 99),
        raw_end_p50_ms=percentile(raw_end, 50),
        raw_end_p99_ms=percentile(raw_end, 99),
        cores=window.cores,
    )


def line(side: Side) -> str:
    """One side's figures, for people."""
    text = (
        f"{side.name}: sent {side.sent}, answered {side.answered}, undelivered {side.undelivered}; "
        f"intent->state p50 {side.p50_ms:.1f} ms p99 {side.p99_ms:.1f} ms; "
        f"{side.batches_per_partition_s:.1f} batches/s per actions partition "
        f"(max {side.batches_per_partition_s_max:.1f}, {side.records_per_batch:.1f} records each, "
        f"{side.written_per_s:.0f} intents/s written); "
        f"raw round trip p50/p99 {side.raw_start_p50_ms:.1f}/{side.raw_start_p99_ms:.1f} ms "
        f"at the start, {side.raw_end_p50_ms:.1f}/{side.raw_end_p99_ms:.1f} ms at the end; "
        "cores busy " + ", ".join(f"{k} {v:.2f}" for k, v in side.cores.items())
    )
    if side.rss_per_socket_kb is not None:
        text += (
            f"; {side.rss_per_socket_kb:.0f} KB per socket, RSS {side.rss_end_mb:.0f} MB at the end"
            f"; gateway CPU {side.gateway_us_per_intent or 0:.0f} us per intent"
        )
    return text


COMMON = (
    "p50_ms",
    "p99_ms",
    "answered_ratio",
    "batches_per_partition_s",
    "raw_start_p99_ms",
    "raw_end_p99_ms",
)  # the figures of both sides; the gateway's also has its memory per socket and its cores
KEYS = GATEWAY_KEYS


def figures(sides: list[Side]) -> dict[str, float]:
    """The `gateway.*` keys of the sides measured (the direct side's as `gateway.direct_*`)."""
    out: dict[str, float] = {}
    for side in sides:
        prefix = "gateway." if side.name == "gateway" else f"gateway.{side.name}_"
        values = {k: float(getattr(side, k)) for k in COMMON}
        if side.rss_per_socket_kb is not None:
            values["rss_kb_per_socket"] = side.rss_per_socket_kb
            values["cores"] = side.cores["gateway"]
            values["us_per_intent"] = side.gateway_us_per_intent or 0.0
        out.update({prefix + k: round(v, 3) for k, v in values.items()})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gateway", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="100 players in 10 games for 10 s")
    parser.add_argument("--players", type=int, help="WebSocket players, and as many direct ones")
    parser.add_argument("--games", type=int, help="games they play in (10 seats each)")
    parser.add_argument("--rate", type=float, help="intents per second per player")
    parser.add_argument("--seconds", type=float, help="how long the load lasts")
    parser.add_argument(
        "--sides", default=",".join(SIDES), help="which to measure: gateway,direct (both)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    load = Load.quick() if args.quick else Load()
    chosen = {k: getattr(args, k) for k in ("players", "games", "rate", "seconds")}
    load = Load(**{**asdict(load), **{k: v for k, v in chosen.items() if v is not None}})
    if load.players < 1 or load.games < 1 or load.rate <= 0 or load.seconds <= 0:
        parser.error("players, games, rate and seconds must be positive")
    sides = tuple(s.strip() for s in args.sides.split(",") if s.strip())
    if not sides or set(sides) - set(SIDES):
        parser.error(f"--sides: choose among {', '.join(SIDES)}")
    say: Say = lambda text: print(text, file=sys.stderr if args.json else sys.stdout, flush=True)  # noqa: E731
    say(f"calibration: {calibration()}")
    try:
        seats(load.players, load.games)
    except ValueError as err:
        parser.error(str(err))
    measured = run(load, say, sides)
    say(f"calibration after: {calibration()}")
    if args.json:
        print(json.dumps(figures(measured), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
