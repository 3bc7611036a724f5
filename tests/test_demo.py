"""`moba demo` in a real terminal: it starts, bots play, q stops everything, nothing strays."""

import re
from pathlib import Path

import psutil
import pytest

from dataflows.launch import REPO_ROOT
from infra.broker import free_port, port_in_use
from infra.settings import Settings
from tests.programs import MOBA
from tests.terminal import Terminal

pytestmark = pytest.mark.slow


def version(screen: str) -> int:
    found = re.search(r"\(version (\d+)\)", screen)
    return int(found.group(1)) if found else -1


@pytest.mark.parametrize(("key", "code"), [("q", 0), ("C-c", 130)])
def test_the_demo_plays_with_bots_and_q_or_ctrl_c_stops_everything(
    terminal: Terminal, tmp_path: Path, key: str, code: int
) -> None:
    port = free_port()
    env = {"MOBA_DATA_DIR": str(tmp_path / "data")}
    terminal.start([MOBA, "demo", "--port", str(port), "--rate", "10"], env, REPO_ROOT)

    screen = terminal.wait_for(lambda s: "*** Game 1-A, Player A2 ***" in s, timeout_s=60)
    started = version(screen)
    terminal.wait_for(lambda s: version(s) >= started + 10, timeout_s=30)  # the bots play
    processes = terminal.processes()
    names = {p.name() for p in processes}
    assert any(n.startswith(Settings().embedded_broker) for n in names)  # tansu*, noida-db
    assert any("bytewax.run" in " ".join(p.cmdline()) for p in processes)

    terminal.keys(key)
    screen = terminal.wait_for(lambda s: terminal.exited(), timeout_s=30)
    assert ("bye" in screen) == (key == "q") and "Traceback" not in screen
    assert terminal.exit_status() == code
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert [p for p in alive if _running(p)] == []
    assert not port_in_use("127.0.0.1", port)


def test_after_game_over_n_plays_the_rematch_and_the_bots_come_along(
    terminal: Terminal, tmp_path: Path
) -> None:
    from domain.rematch import rematch_id

    env = {"MOBA_DATA_DIR": str(tmp_path / "data")}
    terminal.start([MOBA, "demo", "--port", str(free_port()), "--rate", "30"], env, REPO_ROOT)
    over = terminal.wait_for(lambda s: "GAME OVER" in s, timeout_s=180)
    assert f"press n to play the rematch (game {rematch_id(1)})" in over

    terminal.keys("n")
    screen = terminal.wait_for(lambda s: f"*** Game {rematch_id(1)}-A, Player A2 ***" in s)
    started = version(screen)
    terminal.wait_for(lambda s: version(s) >= started + 10, timeout_s=30)  # the bots play it
    terminal.keys("q")
    screen = terminal.wait_for(lambda s: terminal.exited(), timeout_s=30)
    assert "bye" in screen and "Traceback" not in screen


def _running(process: psutil.Process) -> bool:
    """Alive and not a zombie (the pane's own exited process waits for tmux to reap it)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
