"""End to end in a real terminal: `moba client` in tmux, the real broker, the real dataflow."""

import re
from collections.abc import Callable

import pytest

from dataflows.launch import REPO_ROOT
from domain.board import PLAYERS
from infra.settings import Settings
from tests.kafka_helpers import played_to_the_end, produce_actions
from tests.programs import MOBA
from tests.terminal import Terminal

pytestmark = pytest.mark.slow


def row(screen: str, y: int) -> str:
    """Board row `y` of the screen (`9 A1-5 ...`)."""
    return next(line for line in screen.splitlines() if line.split(" ", 1)[0] == str(y))


def version(screen: str) -> int:
    found = re.search(r"\(version (\d+)\)", screen)
    return int(found.group(1)) if found else -1


def test_the_board_shows_and_changes_when_the_player_moves(
    settings: Settings, run_dataflow: Callable[..., object], terminal: Terminal
) -> None:
    run_dataflow(workers=1)
    terminal.start([MOBA, "client", "--game", "2", "--player", "A2"], settings.as_env(), REPO_ROOT)
    screen = terminal.wait_for(lambda s: "A2-5" in s and "Broker: connected" in s)
    assert "*** Game 2-A, Player A2 ***" in screen
    assert "A2-5" in row(screen, 9) and "A2-5" not in row(screen, 8)

    terminal.keys("Down")
    screen = terminal.wait_for(lambda s: "A2-5" in row(s, 8))
    assert "A2-5" not in row(screen, 9)
    assert "Last action: moved down" in screen
    latency = re.search(r"Latency of your last action: (\d+) ms", screen)
    assert latency is not None and int(latency.group(1)) < 1000

    terminal.keys("a")  # throw left from (2, 8): lands on (0, 8), next to A1 on (0, 9)
    screen = terminal.wait_for(lambda s: "A2-4" in s)
    assert "A1-5" not in screen and "Team A: 4 alive" in screen

    terminal.keys("q")
    terminal.wait_for(lambda s: terminal.exited(), timeout_s=10)


def test_walking_into_a_wall_shows_the_rejection(
    settings: Settings, run_dataflow: Callable[..., object], terminal: Terminal
) -> None:
    run_dataflow(workers=1)
    terminal.start([MOBA, "client", "--game", "5", "--player", "A2"], settings.as_env(), REPO_ROOT)
    terminal.wait_for(lambda s: "A2-5" in s)
    terminal.keys("Down")  # (2, 8)
    terminal.wait_for(lambda s: "A2-5" in row(s, 8))
    terminal.keys("Down")  # (2, 7) is a wall
    screen = terminal.wait_for(lambda s: "can't move there: wall" in s)
    assert "A2-5" in row(screen, 8)
    terminal.keys("C-c")
    terminal.wait_for(lambda s: terminal.exited(), timeout_s=10)
    assert "Traceback" not in terminal.screen()
    assert terminal.exit_status() == 130  # Ctrl-C quits like q, with the shell's code


def test_no_broker_shows_a_clear_message_and_no_traceback(
    settings: Settings, terminal: Terminal, unused_port: int
) -> None:
    env = {**settings.as_env(), "MOBA_BOOTSTRAP_SERVERS": f"127.0.0.1:{unused_port}"}
    terminal.start([MOBA, "client", "--game", "2", "--player", "A2"], env, REPO_ROOT)
    screen = terminal.wait_for(lambda s: "Broker: unreachable at" in s)
    assert "retrying" in screen and "Traceback" not in screen and "%3|" not in screen
    terminal.keys("q")
    terminal.wait_for(lambda s: terminal.exited(), timeout_s=10)


@pytest.fixture
def unused_port() -> int:
    from infra.broker import free_port

    return free_port()


def test_a_spectator_watches_a_player_move_and_sends_nothing(
    settings: Settings, run_dataflow: Callable[..., object], terminal: Terminal
) -> None:
    run_dataflow(workers=1)
    player = Terminal()
    try:
        player.start(
            [MOBA, "client", "--game", "6", "--player", "A2"], settings.as_env(), REPO_ROOT
        )
        player.wait_for(lambda s: "A2-5" in s and "Broker: connected" in s)
        terminal.start([MOBA, "client", "--game", "6"], settings.as_env(), REPO_ROOT)
        screen = terminal.wait_for(lambda s: "*** Game 6, watching ***" in s and "A2-5" in s)
        assert "watching game 6: you send nothing" in screen and "Grenades" not in screen
        seen = version(screen)

        terminal.keys("Down")  # a spectator's key: a note, no intent
        screen = terminal.wait_for(lambda s: "you are watching game 6: press q to quit" in s)
        player.keys("Down")
        screen = terminal.wait_for(lambda s: "A2-5" in row(s, 8))
        assert version(screen) == seen + 1  # the player's move, and nothing of the spectator's
        terminal.keys("q")
        terminal.wait_for(lambda s: terminal.exited(), timeout_s=10)
        player.keys("q")
        player.wait_for(lambda s: player.exited(), timeout_s=10)
    finally:
        player.close()


def test_two_players_finish_a_game_press_n_and_meet_again_in_the_rematch_with_their_teams(
    settings: Settings, run_dataflow: Callable[..., object], terminal: Terminal
) -> None:
    from domain.rematch import rematch_id

    run_dataflow(workers=1)
    game, rematch = 12, rematch_id(12)
    other = Terminal()
    # the eight other seats play the game to its end, as bots would
    others = played_to_the_end(game, [p for p in PLAYERS if p not in ("A2", "B2")], 12)
    try:
        terminal.start(
            [MOBA, "client", "--game", str(game), "--player", "A2"], settings.as_env(), REPO_ROOT
        )
        other.start(
            [MOBA, "client", "--game", str(game), "--player", "B2"], settings.as_env(), REPO_ROOT
        )
        for screen in (terminal, other):
            screen.wait_for(lambda s: "Broker: connected" in s and "(version" in s)
        produce_actions(settings, others)
        for screen in (terminal, other):
            over = screen.wait_for(lambda s: "GAME OVER" in s, timeout_s=120)
            assert f"press n to play the rematch (game {rematch}) with the same teams" in over
        terminal.keys("n")
        other.keys("n")
        mine = terminal.wait_for(
            lambda s: f"*** Game {rematch}-A, Player A2 ***" in s and "A2-5" in s
        )
        theirs = other.wait_for(
            lambda s: f"*** Game {rematch}-B, Player B2 ***" in s and "B2-5" in s
        )
        assert "GAME OVER" not in mine and "GAME OVER" not in theirs
        terminal.keys("Down")  # the rematch is played as any game: each sees the other's move
        other.wait_for(lambda s: "A2-5" in row(s, 8))
        for screen in (terminal, other):
            screen.keys("q")
            screen.wait_for(lambda s, screen=screen: screen.exited(), timeout_s=10)
    finally:
        other.close()


def test_moba_play_takes_a_new_game_then_the_next_player_the_other_team_and_q_frees_the_seat(
    settings: Settings, run_dataflow: Callable[..., object], terminal: Terminal
) -> None:
    run_dataflow(workers=1)
    second = Terminal()
    try:
        terminal.start([MOBA, "play"], settings.as_env(), REPO_ROOT)
        terminal.wait_for(lambda s: "*** Game 1-A, Player A1 ***" in s and "Broker: connected" in s)
        second.start([MOBA, "play"], settings.as_env(), REPO_ROOT)
        second.wait_for(lambda s: "*** Game 1-B, Player B1 ***" in s, timeout_s=60)
        terminal.keys("q")
        screen = terminal.wait_for(lambda s: terminal.exited(), timeout_s=10)
        assert "You left seat A1 of game 1: it is free for another." in screen
        assert "Traceback" not in screen
        third = Terminal()
        try:  # A1's seat was left: the next player gets it back, in game 1
            third.start([MOBA, "play"], settings.as_env(), REPO_ROOT)
            third.wait_for(lambda s: "*** Game 1-A, Player A1 ***" in s, timeout_s=60)
        finally:
            third.close()
    finally:
        second.close()
