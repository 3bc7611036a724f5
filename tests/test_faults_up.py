"""`moba up` and `moba broker` under signals, a second server, a crashing dataflow.

Nothing they start outlives them, whatever stops them at whatever stage; one data
directory serves one `moba up`; a dataflow that dies is restarted from recovery and
the games go on, until it dies too often.
"""

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from domain.models import Join, Move
from domain.rules import fold
from infra.broker import free_port, port_in_use
from tests.kafka_helpers import Reached, produce_actions, read_topic, states_by_game
from tests.programs import MOBA
from tests.up_process import UpProcess, up_settings

pytestmark = pytest.mark.slow

# what the console says as each stage of `moba up` begins
STAGES = {
    "broker starting": "",  # at once: the signal lands while the broker starts
    "topics": "broker: embedded at",
    "dataflow starting": "dataflow: pid",
    "api starting": "api: pid",
    "running": "Ctrl-C stops",
}
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


@pytest.mark.parametrize("kind", ["noida", "tansu"])
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("stage", list(STAGES))
def test_up_leaves_no_process_behind_whatever_stops_it_at_whatever_stage(
    tmp_path: Path, stage: str, sig: int, kind: str
) -> None:
    up = UpProcess(up_settings(tmp_path / "data", embedded_broker=kind), tmp_path / "up.log")
    try:
        if STAGES[stage]:
            up.wait_for(STAGES[stage])
        else:
            while not up.look() and up.process.poll() is None:
                pass  # until its first child (the broker) is spawned
        up.signal(sig)
        up.wait_exit()
        survivors = up.survivors()
    finally:
        up.stop()
    assert up.seen, "moba up started nothing"
    assert not survivors, f"left running: {survivors}\n{up.console()}"
    assert not port_in_use("127.0.0.1", int(up.settings.bootstrap_servers.rsplit(":", 1)[1]))


@pytest.mark.parametrize("kind", ["noida", "tansu"])
@pytest.mark.parametrize("background", [False, True], ids=["foreground", "background"])
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_moba_broker_stops_its_broker_on_every_signal(
    tmp_path: Path, sig: int, background: bool, kind: str
) -> None:
    port = free_port()
    env = {**os.environ, "MOBA_DATA_DIR": str(tmp_path / "data"), "MOBA_EMBEDDED_BROKER": kind}
    log = tmp_path / "broker-cli.log"

    def as_background_job() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # what `cmd &` in a shell does

    with open(log, "wb") as out:
        process = subprocess.Popen(
            [MOBA, "broker", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=as_background_job if background else None,
        )
    try:
        up = UpProcess.__new__(UpProcess)  # reuse its console polling on this process
        up.process, up.log_path, up.seen = process, log, {}
        up.wait_for("Ctrl-C stops it")
        process.send_signal(sig)
        process.wait(60)
        survivors = up.survivors()
    finally:
        if process.poll() is None:
            process.kill()
    assert not survivors, f"left running: {survivors}\n{log.read_text()}"
    assert "stopping the broker" in log.read_text()


def test_a_second_up_on_the_same_data_dir_is_refused_and_a_killed_one_does_not_block_it(
    tmp_path: Path,
) -> None:
    settings = up_settings(tmp_path / "data")
    first = UpProcess(settings, tmp_path / "up-1.log")
    try:
        first.wait_for("Ctrl-C stops")
        other_ports = settings.model_copy(
            update={"bootstrap_servers": f"127.0.0.1:{free_port()}", "api_port": free_port()}
        )
        second = UpProcess(other_ports, tmp_path / "up-2.log")
        assert second.wait_exit() == 1
        assert (
            f"another moba up (pid {first.pid}) is running on {settings.data_dir.resolve()}"
            in second.console()
        )
        assert not second.seen and "broker:" not in second.console()

        first.process.kill()  # kill -9: no clean stop, no unlock
        first.wait_exit()
        assert not first.survivors(timeout_s=30), "the kernel stops what a killed moba up started"
        third = UpProcess(settings, tmp_path / "up-3.log")
        try:
            third.wait_for("Ctrl-C stops")
        finally:
            third.stop()
    finally:
        first.stop()


def test_a_killed_dataflow_is_restarted_from_recovery_and_the_games_go_on(tmp_path: Path) -> None:
    settings = up_settings(tmp_path / "data", partitions=4)
    up = UpProcess(settings, tmp_path / "up.log", ("--no-api",))
    games = [1, 2, 3]
    actions = [Join(game_id=g, player="A1", action_id=f"join-{g}") for g in games]
    try:
        up.wait_for("Ctrl-C stops")
        for n in range(60):
            actions += [
                Move(
                    game_id=g,
                    player="A1",
                    action_id=f"m-{g}-{n}",
                    direction="right" if n % 2 else "left",
                )
                for g in games
            ]
        produce_actions(settings, actions[: len(actions) // 2])
        read_topic(settings, settings.games_topic, Reached({g: 20 for g in games}))
        [flow] = up.pids("dataflow")
        psutil.Process(flow).kill()
        killed_at = time.monotonic()
        produce_actions(settings, actions[len(actions) // 2 :])  # while it is down
        up.wait_for("restarting the dataflow from recovery in 1 s")
        up.wait_for("dataflow: pid", after=up.console().index("restarting the dataflow"))
        final = {g: 61 for g in games}
        states = states_by_game(read_topic(settings, settings.games_topic, Reached(final)))
        caught_up_s = time.monotonic() - killed_at
    finally:
        up.stop()
    assert "dataflow exited with code -9" in up.console()
    print(f"kill -9 to every game caught up (1 s backoff included): {caught_up_s:.1f} s")
    for g in games:
        ordered = sorted({s.version: s for s in states[g]}.items())
        assert [v for v, _ in ordered] == list(range(1, 62)), "a version is missing"
        assert ordered[-1][1] == fold(g, [a for a in actions if a.game_id == g])
    assert not up.survivors()


def test_a_dataflow_that_keeps_dying_makes_up_give_up_and_stop_everything(tmp_path: Path) -> None:
    up = UpProcess(up_settings(tmp_path / "data"), tmp_path / "up.log", ("--no-api",))
    try:
        up.wait_for("Ctrl-C stops")
        killed: set[int] = set()
        while up.process.poll() is None:
            for pid in set(up.pids("dataflow")) - killed:
                killed.add(pid)
                with_kill(pid)
            up.look()  # polls the console as the dataflow comes and goes
        code = up.wait_exit()
        survivors = up.survivors()
    finally:
        up.stop()
    assert code == 1
    assert "the dataflow exited 5 times within 60 s; giving up" in up.console()
    assert len(killed) == 5
    assert not survivors


def with_kill(pid: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(pid).kill()
