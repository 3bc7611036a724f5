"""The WebSocket gateway on the real broker and dataflow: states out in order, intents in, refusals.

A real `moba api` process on a free port, the `websockets` client, the pure fold as
the oracle. docs/gateway.md is the protocol these tests hold the gateway to.
"""

import asyncio
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.workload import fresh_settings
from domain.auth import join_token
from domain.models import Action, GameState, Move, Throw
from domain.rules import new_game, next_state
from domain.wire import decode_state
from infra.settings import Settings
from tests.gateway_process import Frame, GatewayProcess, frames_until, is_state, next_frame

pytestmark = pytest.mark.slow

SECRET = "a-secret-of-sixteen-or-more"


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[Callable[[Settings], GatewayProcess]]:
    """Start gateways (`moba api`) on given settings; every one is killed at teardown."""
    started: list[GatewayProcess] = []

    def start(settings: Settings) -> GatewayProcess:
        gateway = GatewayProcess(settings, tmp_path / f"gateway-{len(started)}.log").start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.kill()


def intent(action: Action) -> str:
    """`action` as a play socket's frame: what the seat does not decide."""
    fields = action.model_dump(exclude={"game_id", "player", "token"}, exclude_none=True)
    return json.dumps(fields)


def script(game_id: int, players: list[str], count: int, seed: int) -> list[Action]:
    """`count` moves and throws of `players` in turn, with distinct action ids."""
    rng = random.Random(seed)
    actions: list[Action] = []
    for n in range(count):
        kind = Move if rng.random() < 0.8 else Throw
        direction = rng.choice(["up", "down", "left", "right"])
        player = players[n % len(players)]
        actions.append(
            kind(game_id=game_id, player=player, direction=direction, action_id=f"{player}-{n}")
        )
    return actions


def states(frames: list[Frame]) -> list[GameState]:
    return [decode_state(json.dumps(f)) for f in frames if is_state(f)]


async def close_code(ws: ClientConnection, timeout_s: float = 10.0) -> tuple[int, str]:
    """The code and reason the server closed `ws` with."""
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "closed without a close frame"
        return closed.rcvd.code, closed.rcvd.reason
    raise AssertionError("unreachable")


def test_two_sockets_on_one_game_see_the_same_states_in_order(
    settings, run_dataflow, start_gateway
) -> None:
    run_dataflow()
    gateway = start_gateway(settings)
    game = 3

    async def scenario() -> tuple[list[Frame], list[Frame]]:
        async with (
            connect(f"{gateway.base}/games/{game}/play?player=A1") as player,
            connect(f"{gateway.base}/games/{game}/watch") as spectator,
        ):
            assert (await next_frame(player)) == {"type": "waiting", "game_id": game}
            assert (await next_frame(spectator)) == {"type": "waiting", "game_id": game}
            await player.send(json.dumps({"type": "join", "action_id": "hello"}))
            for action in script(game, ["A1"], 30, seed=1):
                await player.send(intent(action))
            last = lambda frame: frame.get("version") == 31  # noqa: E731
            return await frames_until(player, last), await frames_until(spectator, last)

    seen_by_player, seen_by_spectator = asyncio.run(scenario())
    assert seen_by_player == seen_by_spectator
    assert [s.version for s in states(seen_by_player)] == list(range(1, 32))


def test_intents_through_sockets_fold_to_the_pure_fold(
    settings, run_dataflow, start_gateway
) -> None:
    run_dataflow()
    gateway = start_gateway(settings)
    game = 5
    seats = ["A1", "A3", "B2", "B4"]
    sent = {p: script(game, [p], 20, seed=i) for i, p in enumerate(seats)}
    by_id = {a.action_id: a for actions in sent.values() for a in actions}
    total = len(by_id)

    async def play(seat: str) -> list[Frame]:
        async with connect(f"{gateway.base}/games/{game}/play?player={seat}") as ws:
            first = await next_frame(ws)  # a client acts once it has been shown the game
            for action in sent[seat]:
                await ws.send(intent(action))
            return [first, *await frames_until(ws, lambda frame: frame.get("version") == total)]

    async def everyone() -> list[list[Frame]]:
        return list(await asyncio.gather(*(play(seat) for seat in seats)))

    seen = [states(frames) for frames in asyncio.run(everyone())]
    longest = max(seen, key=len)  # the socket greeted first saw every state
    assert longest[0].version == 1
    state = new_game(game)
    expected = {}
    for got in longest:  # the order the dataflow applied them in is the order of their states
        assert got.last is not None
        state = next_state(state, by_id[got.last.action_id])
        expected[state.version] = state
        assert got == state
    assert state.version == total
    for got_by_one in seen:
        versions = [s.version for s in got_by_one]
        assert versions == sorted(set(versions)), "a socket went back or repeated a version"
        assert all(s == expected[s.version] for s in got_by_one if s.version in expected)


def test_a_new_socket_first_gets_the_current_state(settings, run_dataflow, start_gateway) -> None:
    run_dataflow()
    gateway = start_gateway(settings)

    async def scenario() -> tuple[Frame, Frame]:
        async with connect(f"{gateway.base}/games/8/play?player=B5") as ws:
            await ws.send(json.dumps({"type": "join"}))
            await ws.send(json.dumps({"type": "move", "direction": "right", "action_id": "r"}))
            last = (await frames_until(ws, lambda frame: frame.get("version") == 2))[-1]
        async with connect(f"{gateway.base}/games/8/watch") as late:
            return last, await next_frame(late)

    last, first_of_late = asyncio.run(scenario())
    assert first_of_late == last


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"type": "fly"}', "type"),
        ('{"type": "move", "direction": "north"}', "direction"),
        ('{"type": "move"}', "direction"),
        ('{"type": "move", "direction": "up", "player": "B1"}', "player"),
        ('{"type": "join", "token": "x"}', "token"),
        ('{"type": "join", "action_id": "' + "x" * 5000 + '"}', "5033 characters > 4096"),
        (b'{"type": "join"}', "binary"),
    ],
)
def test_a_malformed_frame_closes_the_socket_with_4400_naming_the_problem(
    settings, start_gateway, frame, problem
) -> None:
    gateway = start_gateway(settings)

    async def scenario() -> tuple[int, str]:
        async with connect(f"{gateway.base}/games/1/play?player=A2") as ws:
            await ws.send(frame)
            return await close_code(ws)

    code, reason = asyncio.run(scenario())
    assert code == 4400
    assert reason.startswith("malformed frame:") and problem in reason


def test_a_frame_on_a_watch_socket_closes_it_with_4400(settings, start_gateway) -> None:
    gateway = start_gateway(settings)

    async def scenario() -> tuple[int, str]:
        async with connect(f"{gateway.base}/games/1/watch") as ws:
            await ws.send('{"type": "join"}')
            return await close_code(ws)

    assert asyncio.run(scenario()) == (4400, "malformed frame: a watch socket takes no frames")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/games/1/play?player=Z9", "no player 'Z9' in game 1: choose one of A1"),
        ("/games/1/play", "no player given in game 1"),
        ("/games/abc/play?player=A1", "no game 'abc'"),
        ("/games/-4/watch", "no game '-4'"),
        ("/games/9007199254740992/watch", "ids are integers 0 to 9007199254740991"),
    ],
)
def test_an_unknown_seat_closes_the_socket_with_4404(settings, start_gateway, path, reason) -> None:
    gateway = start_gateway(settings)

    async def scenario() -> tuple[int, str]:
        async with connect(gateway.base + path) as ws:
            return await close_code(ws)

    code, said = asyncio.run(scenario())
    assert code == 4404 and reason in said


def test_tokens_are_checked_at_the_gateway(broker, tmp_path, run_dataflow, start_gateway) -> None:
    closed = fresh_settings(broker.bootstrap_servers, tmp_path / "closed", secret=SECRET)
    gateway = start_gateway(closed)
    right = join_token(SECRET.encode(), 4, "A2")
    wrong = join_token(SECRET.encode(), 4, "A3")

    async def refused(query: str) -> tuple[int, str]:
        async with connect(f"{gateway.base}/games/4/play?{query}") as ws:
            return await close_code(ws)

    async def accepted() -> Frame:
        async with connect(f"{gateway.base}/games/4/play?player=A2&token={right}") as ws:
            return await next_frame(ws)

    assert asyncio.run(refused("player=A2")) == (4401, "missing token for A2 in game 4")
    assert asyncio.run(refused(f"player=A2&token={wrong}")) == (
        4401,
        "wrong token for A2 in game 4",
    )
    assert asyncio.run(accepted()) == {"type": "waiting", "game_id": 4}
    log = gateway.log_path.read_text()
    assert "play?player=A2&token=…" in log and right not in log and wrong not in log
