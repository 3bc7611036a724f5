"""A frozen broker under `moba up`: a player in a terminal, bots and the dataflow all come back.

The broker is frozen (SIGSTOP, then SIGCONT) for 15 s and for 60 s, on each embedded
broker, while a player presses keys in `moba client` and bots play other games. After
it: the player's keys work again and the screen told them which were not delivered;
the bots' intents are answered again; and every game's states on `games` equal the
replay of the log, version after version. A freeze that outlasts the dataflow's flush
timeout (30 s) while states are in flight makes it exit, and `moba up` restarts it
from recovery; the test says whether that happened.
"""

import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.bots import Tally, run_bots
from client.transport import KafkaTransport
from dataflows.launch import REPO_ROOT
from infra.audit import audit
from infra.settings import Settings
from tests.programs import MOBA
from tests.terminal import Terminal
from tests.up_process import UpProcess, up_settings

pytestmark = pytest.mark.slow

PLAYER_GAME = 2
BOT_GAMES = (5, 6)
BOT_SEATS = [(g, p) for g in BOT_GAMES for p in ("A1", "B1")]


def version(screen: str) -> int:
    found = re.search(r"\(version (\d+)\)", screen)
    return int(found.group(1)) if found else -1


class Bots:
    """`run_bots` in a thread; `tally` is the live one its reports hand out."""

    def __init__(self, settings: Settings) -> None:
        self.stop = threading.Event()
        self.tally = Tally()
        self.transport = KafkaTransport(settings, BOT_GAMES, history=0)
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        def keep(tally: Tally, _elapsed: float) -> None:
            self.tally = tally

        run_bots(self.transport, BOT_SEATS, rate=4, stop=self.stop, report=keep, report_every_s=0.5)

    def until(self, ok, what: str, timeout_s: float = 90) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout_s
        while not ok(self.tally):
            assert time.monotonic() < deadline, f"bots: {what}; {self.tally.line()}"
            time.sleep(0.1)  # the poll's period


@pytest.fixture
def up(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[UpProcess]:
    kind = request.param
    running = UpProcess(
        up_settings(tmp_path / "data", partitions=4, embedded_broker=kind),
        tmp_path / "up.log",
        ("--no-api",),
    )
    try:
        running.wait_for("Ctrl-C stops")
        yield running
    finally:
        running.stop()


@pytest.mark.parametrize("freeze_s", [15, 60])
@pytest.mark.parametrize("up", ["noida", "tansu"], indirect=True)
def test_a_player_bots_and_the_dataflow_come_back_after_a_broker_freeze(
    up: UpProcess, terminal: Terminal, freeze_s: int
) -> None:
    settings = up.settings
    broker = int(re.search(r"broker: embedded at .*pid (\d+)\)", up.console()).group(1))
    terminal.start(
        [MOBA, "client", "--game", str(PLAYER_GAME), "--player", "A2"], settings.as_env(), REPO_ROOT
    )
    terminal.wait_for(lambda s: "A2-5" in s and "Broker: connected" in s, timeout_s=60)
    bots = Bots(settings)
    bots.thread.start()
    try:
        bots.until(lambda t: t.answered >= 5, "never answered before the freeze")
        keys = iter(["Down", "Up"] * 100)
        terminal.keys(next(keys))
        before = terminal.wait_for(lambda s: version(s) >= 2)

        screens = []
        os.kill(broker, signal.SIGSTOP)
        try:
            frozen_until = time.monotonic() + freeze_s
            while time.monotonic() < frozen_until:
                terminal.keys(next(keys))  # a key every few seconds, as a waiting player would
                deadline = min(frozen_until, time.monotonic() + 3)
                while time.monotonic() < deadline:
                    screens.append(terminal.screen())
                    time.sleep(0.2)  # the screen's sampling period
        finally:
            os.kill(broker, signal.SIGCONT)
        resumed = time.monotonic()

        # the player: told what was lost, then keys work again
        seen = terminal.wait_for(lambda s: "Broker: connected" in s, timeout_s=90)
        screens.append(seen)
        last = version(seen)
        while True:  # a key, then its state; keys sent while the flow restarts may be lost
            terminal.keys(next(keys))
            try:
                after = terminal.wait_for(lambda s: version(s) > last, timeout_s=15)
                break
            except AssertionError:
                assert time.monotonic() - resumed < 120, "the player's keys never worked again"
        player_back_s = time.monotonic() - resumed
        assert any("not delivered" in s for s in screens), "the player was never told"

        # the bots: answered again
        answered = bots.tally.answered
        bots.until(
            lambda t: t.answered >= answered + 10 or len(t.finished) == len(BOT_GAMES),
            "not answered after the freeze",
        )
        bots_back_s = time.monotonic() - resumed
    finally:
        bots.stop.set()
        bots.thread.join(30)
        bots.transport.close()
        terminal.keys("q")

    # the dataflow: every state equals the replay of the log, none missing
    for game in (PLAYER_GAME, *BOT_GAMES):
        deadline = time.monotonic() + 60
        while True:
            result, _ = audit(settings, game)
            if result.ok and not result.missing_last:
                break
            assert time.monotonic() < deadline, result.summary()
            time.sleep(0.5)  # the poll's period
    restarted = "restarting the dataflow from recovery" in up.console()  # if states were in flight
    print(
        f"{settings.embedded_broker}, {freeze_s} s freeze: player's keys work {player_back_s:.1f} s "
        f"after it, bots answered again after {bots_back_s:.1f} s; dataflow restarted: {restarted}; "
        f"bots {bots.tally.line()}; versions {version(before.strip())} -> {version(after)}"
    )
