"""Taking seats on the real broker and dataflow: the server decides every race, never twice.

Two clients claim one seat at the same moment, many times over: each time exactly one
holds it and the other is told `seat_taken`, then takes the next free seat its answer
shows. `take_seat` (what `moba play` runs) does the same from the recovery store.
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.lobby import free_seats
from cli.play import take_seat
from client.app import new_session
from client.seating import claim, holds
from client.transport import KafkaTransport
from domain.models import GameState
from infra.settings import Settings

pytestmark = pytest.mark.slow

RACES = 20


def race(settings: Settings, game_id: int, player: str, sessions: list[str]) -> list[GameState]:
    """Every session claims `player` of `game_id` at once; the answers, in session order."""
    start = threading.Barrier(len(sessions))

    def one(session: str) -> GameState:
        with KafkaTransport(settings, [game_id], history=0) as transport:
            start.wait()
            return claim(transport, game_id, player, session)

    with ThreadPoolExecutor(len(sessions)) as pool:
        return list(pool.map(one, sessions))


def test_two_clients_racing_for_a_seat_get_one_winner_and_the_loser_takes_the_next(
    settings: Settings, run_dataflow: Callable[..., object]
) -> None:
    run_dataflow()
    winners = []
    for game_id in range(100, 100 + RACES):
        sessions = [new_session(), new_session()]
        answers = race(settings, game_id, "A1", sessions)
        won = [holds(a, "A1", s) for a, s in zip(answers, sessions, strict=True)]
        assert won.count(True) == 1, answers
        winner, loser = (0, 1) if won[0] else (1, 0)
        lost = answers[loser]
        assert lost.last is not None and lost.last.reason == "seat_taken"
        nxt = free_seats(lost)[0]  # the answer shows the seat taken: the next one is free
        with KafkaTransport(settings, [game_id], history=0) as transport:
            second = claim(transport, game_id, nxt, sessions[loser])
        assert holds(second, nxt, sessions[loser]) and holds(second, "A1", sessions[winner])
        winners.append(winner)
    assert len(winners) == RACES  # both orders happen: neither client is favoured by design


def test_take_seat_seats_ten_players_arriving_in_pairs_in_ten_different_seats(
    settings: Settings, run_dataflow: Callable[..., object]
) -> None:
    run_dataflow()
    said: list[str] = []
    seats = []
    for _ in range(5):
        sessions = [new_session(), new_session()]
        with ThreadPoolExecutor(2) as pool:
            taken = list(pool.map(lambda s: take_seat(settings, s, say=said.append), sessions))
        assert None not in taken, said
        seats += [(game, player) for game, player, _ in taken]  # type: ignore[misc]
    assert len(set(seats)) == 10
    assert {game for game, _ in seats} == {1}  # one game, filled before another is started
    assert "Game 1, seat A1 (team A): a new game." in said
