"""Service life: how long `moba up` keeps a player's action -> state p99 under a target, under load.

The stack is `moba up`'s own (cli/stack.py: embedded broker, topics, dataflow with
recovery), fed by `bench.loadgen` at a fixed rate to games 1..N. A probe player in
game 0 sends a move as soon as the last one's state came back; every window (30 s)
gives the p50/p99 of those round trips, and of a raw message's round trip on the same
partition of `actions` (one hop through the broker, no dataflow).

The service life is the time until the first of two windows in a row whose p99 misses
the target. The run goes on to the cap anyway, to show the trend on a shared machine
where every window may miss it, unless the flow has fallen behind for good (p50 over
a second in two windows in a row: a backlog that only grows).
"""

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.latency import background_load, loaded_round_trips, wait_first_state
from bench.report import percentile
from bench.workload import rss_bytes
from cli.stack import Stack
from infra.broker import free_port
from infra.settings import EmbeddedKind, Settings

Say = Callable[[str], None]


@dataclass(frozen=True)
class Window:
    """One window of probe round trips, in ms, and what the machine and broker looked like."""

    at_s: float  # since the load started
    samples: int
    p50_ms: float
    p99_ms: float
    hop_p50_ms: float
    hop_p99_ms: float
    load_1m: float  # os.getloadavg()[0]: the machine is shared
    broker_rss_mb: float
    broker_cores: float  # the broker's CPU over the window

    def line(self) -> str:
        return (
            f"{self.at_s:6.0f} s  action->state p50 {self.p50_ms:7.1f} p99 {self.p99_ms:8.1f} ms"
            f"  (n={self.samples}); one hop p50 {self.hop_p50_ms:6.1f} p99 {self.hop_p99_ms:7.1f} ms;"
            f"  load {self.load_1m:.2f}; broker RSS {self.broker_rss_mb:.0f} MB,"
            f" {self.broker_cores:.2f} cores"
        )


@dataclass
class Life:
    """A service-life run: its windows and how long the target held (None: for the whole cap)."""

    kind: EmbeddedKind
    rate: float
    cap_s: float
    target_ms: float
    windows: list[Window] = field(default_factory=list)
    missed_at_s: float | None = None  # the service life; None: the target held to the end
    behind_at_s: float | None = None  # when the flow fell behind for good, if it did
    ran_s: float = 0.0
    error: str | None = None

    def summary(self) -> str:
        ran = f"ran {self.ran_s:.0f} s"
        if self.missed_at_s is None:
            held = f"p99 < {self.target_ms:.0f} ms in every window"
        else:
            held = f"p99 < {self.target_ms:.0f} ms held {self.missed_at_s:.0f} s"
        behind = (
            "" if self.behind_at_s is None else f"; behind for good at {self.behind_at_s:.0f} s"
        )
        error = "" if self.error is None else f"; stopped by {self.error}"
        return f"{self.kind} at {self.rate:.0f} actions/s: {held}{behind} ({ran}){error}"

    def note(self, window: Window) -> bool:
        """Add a window; whether the run should stop (the flow is behind for good)."""
        self.windows.append(window)
        last_two = self.windows[-2:]
        if len(last_two) < 2:
            return False
        if self.missed_at_s is None and all(w.p99_ms >= self.target_ms for w in last_two):
            self.missed_at_s = last_two[0].at_s
        if all(w.p50_ms >= 1000 for w in last_two):
            self.behind_at_s = last_two[0].at_s
            return True
        return False


def service_life(
    kind: EmbeddedKind,
    rate: float,
    minutes: float,
    say: Say = print,
    games: int = 100,
    target_ms: float = 100.0,
    window_s: float = 30.0,
) -> Life:
    """Run `moba up`'s stack on broker `kind` under `rate` actions/s until the cap or a miss."""
    life = Life(kind, rate, minutes * 60, target_ms)
    with tempfile.TemporaryDirectory(prefix=f"moba-life-{kind}-") as tmp:
        settings = Settings(
            bootstrap_servers=f"127.0.0.1:{free_port()}",
            data_dir=Path(tmp),
            embedded_broker=kind,
        )
        with Stack(settings, say=lambda line: None) as stack:
            assert stack.broker is not None and stack.broker.process is not None
            broker_pid = stack.broker.process.pid
            wait_first_state(stack.children[0], stack.settings)
            with background_load(stack.settings, rate, games):
                started = time.monotonic()
                while time.monotonic() - started < life.cap_s:
                    at = time.monotonic() - started
                    cpu = process_cpu_s(broker_pid)
                    try:
                        stack.children[0].raise_if_exited()
                        trips = loaded_round_trips(
                            stack.settings, 100_000, raw_every=4, timeout_s=5.0, budget_s=window_s
                        )
                    except Exception as err:  # a dead flow or broker ends the run, reported
                        life.error = f"{type(err).__name__}: {err}"[:300]
                        break
                    took = time.monotonic() - started - at
                    window = Window(
                        at,
                        len(trips.game),
                        percentile(trips.game, 50),
                        percentile(trips.game, 99),
                        percentile(trips.raw or [0.0], 50),
                        percentile(trips.raw or [0.0], 99),
                        os.getloadavg()[0],
                        rss_bytes(broker_pid) / 2**20,
                        (process_cpu_s(broker_pid) - cpu) / took,
                    )
                    say(f"  {kind} {rate:.0f}/s {window.line()}")
                    if life.note(window):
                        break
                life.ran_s = time.monotonic() - started
    say(f"  {life.summary()}")
    return life


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
