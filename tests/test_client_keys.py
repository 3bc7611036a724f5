"""Key bindings -> intents, through the real prompt_toolkit app fed by a pipe, with no terminal."""

import asyncio
import threading
import time
from collections.abc import Callable

from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from client.app import Cell, play
from client.events import Link
from client.transport import Deliver
from client.view import View, absorb, idle_reason
from domain.models import Action, GameState, Join, Player
from domain.rules import fold, new_game, next_state
from tests.fakes import FakeServer

UP, DOWN, RIGHT, LEFT = "\x1b[A", "\x1b[B", "\x1b[C", "\x1b[D"


async def until(condition: Callable[[], object], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.01)


def play_keys(server: FakeServer, steps: list[tuple[str, int]], player: str = "A2") -> View:
    """Type each text, waiting after each until the server has seen `count` actions; then quit."""

    async def scenario() -> View:
        with create_pipe_input() as keys:
            game = asyncio.create_task(
                play(server, server.state.game_id, player, input=keys, output=DummyOutput())
            )
            for text, count in steps:
                await until(lambda c=count: len(server.sent) >= c)
                keys.send_text(text)
            await until(lambda: len(server.sent) >= steps[-1][1] if steps else True)
            keys.send_text("q")
            return await asyncio.wait_for(game, 5)

    return asyncio.run(scenario())


def test_join_is_sent_first_and_the_state_shows_at_once() -> None:
    server = FakeServer(new_game(2))
    view = play_keys(server, [])
    assert server.intents()[0] == ("join", None)
    assert view.state is not None and view.state.game_id == 2


def test_arrows_move_and_wasd_throw() -> None:
    server = FakeServer(new_game(2), apply_rules=False)
    keys = [DOWN, RIGHT, LEFT, UP, "w", "a", "s", "D"]
    steps = [(key, i + 1) for i, key in enumerate(keys)] + [("", len(keys) + 1)]
    play_keys(server, steps)
    assert server.intents()[1:-1] == [
        ("move", "down"),
        ("move", "right"),
        ("move", "left"),
        ("move", "up"),
        ("throw", "up"),
        ("throw", "left"),
        ("throw", "down"),
        ("throw", "right"),
    ]


def test_every_action_carries_game_player_token_and_a_unique_id() -> None:
    server = FakeServer(new_game(7))

    async def scenario() -> None:
        with create_pipe_input() as keys:
            game = asyncio.create_task(
                play(server, 7, "B3", token="t0k", input=keys, output=DummyOutput())
            )
            await until(lambda: len(server.sent) >= 1)
            keys.send_text(UP)
            await until(lambda: len(server.sent) >= 2)
            keys.send_text(UP)
            await until(lambda: len(server.sent) >= 3)
            keys.send_text("q")
            await asyncio.wait_for(game, 5)

    asyncio.run(scenario())
    assert {(a.game_id, a.player, a.token) for a in server.sent} == {(7, "B3", "t0k")}
    assert len({a.action_id for a in server.sent}) == len(server.sent)


def test_walking_into_a_wall_shows_the_rejection_and_a_latency() -> None:
    server = FakeServer(new_game(2))  # A2 starts at (2, 9); (2, 7) is a wall
    view = play_keys(server, [(DOWN, 1), (DOWN, 2), ("", 3)])
    assert view.last_words == "can't move there: wall"
    assert view.last_rejected
    assert view.latency_ms is not None and view.latency_ms >= 0


def eliminated(state: GameState, name: str) -> GameState:
    players = {**state.players, name: Player(team="A", x=2, y=9, grenades=5, alive=False)}
    return state.model_copy(update={"players": players})


def test_an_eliminated_player_is_told_why_and_its_keys_send_nothing() -> None:
    server = FakeServer(eliminated(new_game(2), "A2"))
    view = play_keys(server, [(UP, 1), ("w", 1)])
    assert server.intents() == [("join", None), ("leave", None)]  # the leave is q's
    assert view.note is not None and "eliminated" in view.note


def test_q_quits_before_any_state_arrives() -> None:
    class Silent(FakeServer):
        """A server that records intents and never answers."""

        def send(self, action: Action) -> None:
            self.sent.append(action)

        def receive(self, stop: threading.Event, deliver: Deliver) -> None:
            stop.wait()

    server = Silent(new_game(2))
    view = play_keys(server, [("", 1)])
    assert view.state is None


def test_a_spectator_sees_the_game_and_sends_nothing_whatever_it_presses() -> None:
    server = FakeServer(new_game(4))

    async def scenario() -> View:
        with create_pipe_input() as keys:
            game = asyncio.create_task(play(server, 4, None, input=keys, output=DummyOutput()))
            await until(lambda: server._ready.is_set())
            keys.send_text(DOWN + "w" + UP + "q")  # keys are handled in order: q comes last
            return await asyncio.wait_for(game, 5)

    view = asyncio.run(scenario())
    assert server.sent == []
    assert view.state is not None and view.state.game_id == 4
    assert view.note == "you are watching game 4: press q to quit"


def test_every_action_of_a_run_carries_one_session_and_q_leaves_the_seat() -> None:
    server = FakeServer(new_game(2))
    view = play_keys(server, [(DOWN, 1), ("", 2)])
    assert [a.type for a in server.sent] == ["join", "move", "leave"]
    sessions = {a.session for a in server.sent}
    assert len(sessions) == 1 and None not in sessions
    assert server.state.last is not None and server.state.last.type == "leave"
    assert server.state.last.accepted and "A2" not in server.state.seats  # claimed, then freed
    assert view.player == "A2"


def test_a_seat_another_session_holds_is_not_left_on_the_way_out() -> None:
    taken = next_state(new_game(2), Join(game_id=2, player="A2", session="someone-else"))
    cell = Cell(2, "A2", session="our-own-session")
    assert cell.leave() is not None  # no state yet: the server decides whose it is
    cell.view = absorb(cell.view, taken, 0)
    assert cell.leave() is None
    assert idle_reason(cell.view) == (
        "seat A2 is taken by another player: press q and pick another seat"
    )


def test_n_after_game_over_picks_the_rematch_and_sends_no_leave() -> None:
    over = new_game(2).model_copy(update={"status": "finished", "winner": "A", "rematch": 77})
    server = FakeServer(over)

    async def scenario() -> View:
        with create_pipe_input() as keys:
            game = asyncio.create_task(play(server, 2, "A2", input=keys, output=DummyOutput()))
            await until(lambda: server.sent)
            deadline = time.monotonic() + 5
            while not game.done():  # n does nothing until the finished state has been shown
                assert time.monotonic() < deadline, "n never picked the rematch"
                keys.send_text("n")
                await asyncio.wait([game], timeout=0.1)
            return game.result()

    view = asyncio.run(scenario())
    assert view.next_game == 77
    assert [a.type for a in server.sent] == ["join"]


def test_n_in_a_running_game_only_says_when_it_will_work() -> None:
    server = FakeServer(new_game(2))
    view = play_keys(server, [("n", 1)])
    assert view.next_game is None
    assert view.note == "n plays the rematch once this game is over"


def test_a_state_read_from_the_store_shows_until_the_log_has_newer_ones() -> None:
    class Quiet(FakeServer):
        """A server whose log holds nothing recent of this game."""

        def receive(self, stop: threading.Event, deliver: Deliver) -> None:
            deliver(Link(up=True, detail="connected"))
            stop.wait()

    stored = fold(9, [Join(game_id=9, player="B2")] * 3)

    async def scenario() -> View:
        with create_pipe_input() as keys:
            game = asyncio.create_task(
                play(Quiet(new_game(9)), 9, None, known=stored, input=keys, output=DummyOutput())
            )
            await asyncio.sleep(0)  # the app starts and takes the stored state first
            keys.send_text("q")
            return await asyncio.wait_for(game, 5)

    assert asyncio.run(scenario()).state == stored
