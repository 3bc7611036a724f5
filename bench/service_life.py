"""Service life: how long `moba up` keeps a player's action -> state p99 under a target, under load.

The stack is `moba up`'s own (cli/stack.py: embedded broker, topics, dataflow with
recovery), fed by `bench.loadgen` at a fixed rate to games 1..N. A probe player in
game 0 sends a move as soon as the last one's state came back; every window (30 s)
gives the p50/p99 of those round trips, and of a raw message's round trip on the same
partition of `actions` (one hop through the broker, no dataflow). The run stops at the
cap, or once two windows in a row miss the target: the service life is then the start
of the first of them.
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

    def line(self) -> str:
        return (
            f"{self.at_s:6.0f} s  action->state p50 {self.p50_ms:7.1f} p99 {self.p99_ms:8.1f} ms"
            f"  (n={self.samples}); one hop p50 {self.hop_p50_ms:6.1f} p99 {self.hop_p99_ms:7.1f} ms;"
            f"  load {self.load_1m:.2f}; broker RSS {self.broker_rss_mb:.0f} MB"
        )


@dataclass
class Life:
    """A service-life run: its windows and how long the target held (None: for the whole cap)."""

    kind: EmbeddedKind
    rate: float
    cap_s: float
    target_ms: float
    windows: list[Window] = field(default_factory=list)
    failed_at_s: float | None = None
    error: str | None = None

    def summary(self) -> str:
        if self.error is not None:
            return f"{self.kind} at {self.rate:.0f}/s: stopped by an error: {self.error}"
        if self.failed_at_s is None:
            held = f"held p99 < {self.target_ms:.0f} ms for the whole {self.cap_s / 60:.0f} min"
        else:
            held = f"p99 < {self.target_ms:.0f} ms held for {self.failed_at_s:.0f} s"
        return f"{self.kind} at {self.rate:.0f} actions/s: {held}"


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
                    try:
                        stack.children[0].raise_if_exited()
                        trips = loaded_round_trips(
                            stack.settings, 100_000, raw_every=4, timeout_s=5.0, budget_s=window_s
                        )
                    except Exception as err:  # a dead flow or broker ends the run, reported
                        life.error = f"{type(err).__name__}: {err}"[:300]
                        life.failed_at_s = at
                        break
                    window = Window(
                        at,
                        len(trips.game),
                        percentile(trips.game, 50),
                        percentile(trips.game, 99),
                        percentile(trips.raw or [0.0], 50),
                        percentile(trips.raw or [0.0], 99),
                        os.getloadavg()[0],
                        rss_bytes(broker_pid) / 2**20,
                    )
                    life.windows.append(window)
                    say(f"  {kind} {rate:.0f}/s {window.line()}")
                    missed = [w.p99_ms >= target_ms for w in life.windows[-2:]]
                    if len(missed) == 2 and all(missed):
                        life.failed_at_s = life.windows[-2].at_s
                        break
    return life
