"""The gateway's departures: a seat whose sockets closed is left after the grace, unless one returns."""

import asyncio
import json
import time
from collections.abc import Callable

from api.gateway.departures import Departures
from api.gateway.seats import Seat
from domain.models import Join, Leave
from domain.rules import next_game, start
from domain.seats import holder_of

Holder = tuple[int, str, str]  # (game, player, session), as the gateway's seats are
A2 = (3, "A2", "tab-1")
GRACE_S = 0.05


async def until(condition: Callable[[], object], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.01)


def run(scenario: Callable[[Departures[Holder], list[Holder]], object]) -> list[Holder]:
    left: list[Holder] = []

    async def main() -> None:
        departures = Departures[Holder](GRACE_S, left.append)
        await scenario(departures, left)  # type: ignore[misc]

    asyncio.run(main())
    return left


def test_a_seat_whose_only_socket_closed_is_left_once_after_the_grace() -> None:
    async def scenario(departures: Departures[Holder], left: list[Holder]) -> None:
        departures.arrived(A2)
        departures.departed(A2)
        assert departures.pending == [A2] and left == []
        await until(lambda: left)

    assert run(scenario) == [A2]


def test_a_socket_that_comes_back_within_the_grace_keeps_the_seat() -> None:
    async def scenario(departures: Departures[Holder], left: list[Holder]) -> None:
        departures.arrived(A2)
        departures.departed(A2)
        departures.arrived(A2)  # the page reloaded
        assert departures.pending == []
        other = (3, "B1", "tab-2")  # a later departure's leave shows the grace has passed
        departures.arrived(other)
        departures.departed(other)
        await until(lambda: left)

    assert run(scenario) == [(3, "B1", "tab-2")]


def test_the_seat_is_kept_while_another_socket_of_the_session_is_open() -> None:
    async def scenario(departures: Departures[Holder], left: list[Holder]) -> None:
        departures.arrived(A2)
        departures.arrived(A2)  # a duplicated tab shares its session
        departures.departed(A2)
        assert departures.pending == []
        departures.departed(A2)
        await until(lambda: left)

    assert run(scenario) == [A2]


def test_a_socket_that_left_by_itself_gets_no_second_leave() -> None:
    async def scenario(departures: Departures[Holder], left: list[Holder]) -> None:
        departures.arrived(A2)
        departures.departed(A2, left=True)
        assert departures.pending == []

    assert run(scenario) == []


def test_a_stopping_gateway_sends_no_leave() -> None:
    async def scenario(departures: Departures[Holder], left: list[Holder]) -> None:
        departures.arrived(A2)
        departures.departed(A2)
        departures.forget_all()
        later = (4, "B1", "tab-2")  # its leave comes after A2's would have
        departures.arrived(later)
        departures.departed(later)
        await until(lambda: left)

    assert run(scenario) == [(4, "B1", "tab-2")]


def test_a_closing_socket_may_hold_a_free_or_own_seat_of_a_running_game() -> None:
    # the socket's join may still be on its way: a seat it may be granted is left after the grace
    seat = Seat(3, "A2", None, "tab-one-1234")

    def state(status: str, holder: str | None) -> str:
        seats = {} if holder is None else {"A2": {"holder": holder_of(holder), "last": 1}}
        return json.dumps({"status": status, "seats": seats})

    assert seat.may_hold(None)  # no state seen: only the dataflow knows
    assert seat.may_hold(state("running", None))  # free: the join's answer may not have come
    assert seat.may_hold(state("running", "tab-one-1234"))
    assert not seat.may_hold(state("running", "tab-two-5678"))  # another session's
    assert not seat.may_hold(state("finished", None))
    assert not seat.may_hold(state("finished", "tab-one-1234"))
    sessionless = Seat(3, "A2", None)  # no session: no seat of its own
    assert not sessionless.may_hold(state("running", None))


def test_a_leave_from_a_session_not_holding_the_seat_frees_nobody() -> None:
    # why a stray gateway leave is harmless: the dataflow rejects it or finds the seat free
    game = next_game(start(3), Join(game_id=3, player="A2", session="tab-two-5678"), now=1)
    assert game.board.seats["A2"].holder == holder_of("tab-two-5678")
    stray = next_game(game, Leave(game_id=3, player="A2", session="tab-one-1234"), now=2)
    assert stray.last is not None and not stray.last.accepted and stray.last.reason == "seat_taken"
    assert stray.board.seats == game.board.seats
    free = next_game(start(3), Leave(game_id=3, player="A2", session="tab-one-1234"), now=2)
    assert free.board.seats == start(3).board.seats
