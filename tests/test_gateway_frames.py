"""The gateway's parsing and outbox, without a broker: seats, frames, refusals, version order."""

import asyncio
import json
import logging
from collections.abc import Callable

import pytest

from api.gateway.reader import HEAD
from api.gateway.seats import (
    MALFORMED,
    NO_SEAT,
    UNAUTHORIZED,
    RedactTokens,
    Refusal,
    Seat,
    game_of,
)
from api.gateway.subscriber import Subscriber
from domain.auth import join_token
from domain.models import Move, Throw
from domain.rules import fold
from domain.wire import encode_state

SECRET = b"a-secret-of-sixteen-or-more"


def refusal(call: Callable[[], object]) -> tuple[int, str]:
    with pytest.raises(Refusal) as caught:
        call()
    return caught.value.code, caught.value.reason


def test_a_frame_becomes_the_seats_action() -> None:
    seat = Seat.check(7, "B3", None, secret=None)
    action = seat.action('{"type": "throw", "direction": "left", "action_id": "t1"}', 4096)
    assert action == Throw(game_id=7, player="B3", direction="left", action_id="t1")


def test_a_seat_with_a_secret_needs_its_own_token() -> None:
    token = join_token(SECRET, 7, "B3")
    seat = Seat.check(7, "B3", token, SECRET)
    assert seat.action('{"type": "move", "direction": "up"}', 4096) == Move(
        game_id=7, player="B3", direction="up", token=token
    )
    assert refusal(lambda: Seat.check(7, "B3", None, SECRET)) == (
        UNAUTHORIZED,
        "missing token for B3 in game 7",
    )
    other = join_token(SECRET, 7, "B4")
    assert refusal(lambda: Seat.check(7, "B3", other, SECRET))[0] == UNAUTHORIZED
    assert refusal(lambda: Seat.check(7, "B3", "x" * 10_000, SECRET))[0] == UNAUTHORIZED


def test_without_a_secret_any_token_is_carried_and_left_to_the_dataflow() -> None:
    assert Seat.check(7, "A1", "whatever", secret=None).token == "whatever"


@pytest.mark.parametrize("player", [None, "", "Z9", "a1", "A6", "A1 ", "x" * 500])
def test_a_player_not_on_the_board_has_no_seat(player: str | None) -> None:
    code, reason = refusal(lambda: Seat.check(1, player, None, secret=None))
    assert code == NO_SEAT and "choose one of A1, A2" in reason
    assert len(reason.encode()) <= 123


@pytest.mark.parametrize("path_id", ["abc", "-1", "1e3", "1.0", "٣", "", "9007199254740992"])
def test_a_game_id_that_is_not_an_id_has_no_seat(path_id: str) -> None:
    assert refusal(lambda: game_of(path_id))[0] == NO_SEAT


def test_game_ids_are_the_integers_the_wire_format_allows() -> None:
    assert [game_of(s) for s in ["0", "42", "9007199254740991"]] == [0, 42, 2**53 - 1]


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        ("", "not JSON"),
        ("{", "not JSON"),
        ("null", "not a JSON object"),
        ('{"type": "dance"}', "type"),
        ('{"direction": "up"}', "type"),
        ('{"type": "move", "direction": 3}', "direction"),
        ('{"type": "move", "direction": "up", "action_id": "' + "x" * 65 + '"}', "action_id"),
        ('{"type": "join", "game_id": 8}', "game_id come from the URL"),
        ('{"type": "join", "player": "A1", "token": "t"}', "player, token come from the URL"),
        ("[" * 5000, "5000 characters > 4096"),
        ("[" * 4000 + "]" * 4000, "8000 characters"),
    ],
)
def test_a_malformed_frame_is_refused_naming_the_problem(frame: str, problem: str) -> None:
    seat = Seat.check(1, "A1", None, secret=None)
    code, reason = refusal(lambda: seat.action(frame, 4096))
    assert code == MALFORMED and reason.startswith("malformed frame: ") and problem in reason
    assert len(reason.encode()) <= 123


def test_deeply_nested_json_within_the_size_limit_is_refused_not_crashed() -> None:
    seat = Seat.check(1, "A1", None, secret=None)
    assert refusal(lambda: seat.action("[" * 2000 + "]" * 2000, 4096))[0] == MALFORMED


def test_an_outbox_sends_versions_in_order_once_each() -> None:
    async def scenario() -> list[str]:
        box = Subscriber(buffer=10)
        for version in [3, 1, 3, 4, 2, 6]:
            box.offer(version, f"v{version}")
        return await box.next()

    assert asyncio.run(scenario()) == ["v3", "v4", "v6"]


def test_a_full_outbox_drops_its_oldest_states_but_never_a_report() -> None:
    async def scenario() -> list[str]:
        box = Subscriber(buffer=2)
        box.offer(1, "v1")
        box.report("r1")
        for version in range(2, 6):
            box.offer(version, f"v{version}")
        box.no_state_yet(9)  # said at most once
        box.no_state_yet(9)
        return await box.next()

    assert asyncio.run(scenario()) == [
        "r1",
        "v4",
        "v5",
        json.dumps({"type": "waiting", "game_id": 9}),
    ]


def test_the_head_of_every_encoded_state_gives_its_game_and_version() -> None:
    moves = [Move(game_id=2**53 - 1, player=p, direction="down") for p in ["A1", "A2", "B1"] * 5]
    for n in range(len(moves) + 1):
        state = fold(2**53 - 1, moves[:n])
        for raw in (encode_state(state), state.model_dump_json().encode()):
            head = HEAD.match(raw)
            assert head is not None and (int(head[1]), int(head[2])) == (state.game_id, n)
    assert HEAD.match(b'{"version": 1, "game_id": 2}') is None  # falls back to a full parse


def test_join_tokens_never_reach_the_server_log() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        "",
        0,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5", "/games/4/play?player=A2&token=abc123&x=1"),
        None,
    )
    assert RedactTokens().filter(record)
    assert (
        record.getMessage()
        == '127.0.0.1:5 - "WebSocket /games/4/play?player=A2&token=…&x=1" [accepted]'
    )
