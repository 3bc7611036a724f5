"""`moba bots` against the real broker and dataflow: a whole game, as the pure fold says."""

import statistics
import threading
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from cli.bots import parse_games, parse_players
from cli.main import app
from client.bots import run_bots
from client.transport import KafkaTransport
from dataflows.launch import REPO_ROOT
from domain.board import PLAYERS
from domain.models import Action, GameState
from domain.rules import fold
from domain.wire import decode_action, decode_state
from infra.settings import Settings
from tests.kafka_helpers import read_topic
from tests.programs import MOBA
from tests.terminal import Terminal

TICK_KEY = b"tick"  # clock records on `actions`: no game's action


def test_games_and_players_are_parsed_from_ranges_and_lists() -> None:
    assert parse_games("2") == (2,)
    assert parse_games("1-3,7,2") == (1, 2, 3, 7)
    assert parse_players("A1, B3, A1") == ("A1", "B3")
    assert len(parse_players(None)) == 10


@pytest.mark.slow
def test_bots_play_a_game_to_its_end_and_every_intent_is_answered(
    settings: Settings, run_dataflow: Callable[..., object]
) -> None:
    run_dataflow(workers=1)
    seats = [(3, player) for player in PLAYERS]
    with KafkaTransport(settings, [3], history=0) as transport:
        tally = run_bots(transport, seats, rate=50, stop=threading.Event(), duration_s=60)

    assert tally.finished == {3}
    assert tally.answered == tally.sent and tally.undelivered == 0
    assert len(tally.latencies_ms) == tally.answered
    messages = read_topic(
        settings,
        settings.actions_topic,
        lambda ms: sum(m.key != TICK_KEY for m in ms) >= tally.sent,
    )
    actions: list[Action] = [decode_action(m.value) for m in messages if m.key != TICK_KEY]
    states = [
        decode_state(m.value)
        for m in read_topic(settings, settings.games_topic, lambda ms: len(ms) >= len(actions))
    ]
    assert untimed(states[-1]) == untimed(fold(3, actions))
    assert states[-1].status == "finished"
    assert len(states[-1].seats) == len(PLAYERS)  # each bot held its seat with its session


def untimed(state: GameState) -> GameState:
    """`state` with its seats' log times zeroed: the fold plays no time, the server does."""
    seats = {p: seat.model_copy(update={"last": 0}) for p, seat in state.seats.items()}
    return state.model_copy(update={"seats": seats})


@pytest.mark.slow
def test_the_bots_command_runs_for_a_duration_and_reports(
    settings: Settings, run_dataflow: Callable[..., object]
) -> None:
    run_dataflow(workers=1)
    result = CliRunner().invoke(
        app,
        ["bots", "--games", "1-4", "--players", "A1,B1", "--rate", "20", "--duration", "3"],
        env=settings.as_env(),
    )
    assert result.exit_code == 0, result.output
    assert "8 bots in 4 game(s) at 20.0/s" in result.output
    assert "done: sent" in result.output


@pytest.mark.slow
def test_ctrl_c_stops_the_bots_cleanly_with_a_report(
    settings: Settings, run_dataflow: Callable[..., object], terminal: Terminal
) -> None:
    run_dataflow(workers=1)
    command = [MOBA, "bots", "--game", "4", "--rate", "2"]
    terminal.start(command, settings.as_env(), REPO_ROOT)
    terminal.wait_for(lambda s: "sent " in s)
    terminal.keys("C-c")
    screen = terminal.wait_for(lambda s: terminal.exited(), timeout_s=15)
    assert "done: sent" in screen and "Traceback" not in screen
    assert terminal.exit_status() == 130


@pytest.mark.slow
def test_bots_at_one_intent_a_second_report_the_round_trip_not_the_tick(
    settings: Settings, run_dataflow: Callable[..., object]
) -> None:
    run_dataflow(workers=1)
    seats = [(6, player) for player in PLAYERS]
    with KafkaTransport(settings, [6], history=0) as transport:
        tally = run_bots(transport, seats, rate=1, stop=threading.Event(), duration_s=8)

    assert len(tally.latencies_ms) >= 4
    # stamped when the rate limiter next woke, every one was about 1000 ms
    assert statistics.median(tally.latencies_ms) < 500, tally.latencies_ms
