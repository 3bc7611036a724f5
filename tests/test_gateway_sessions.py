"""Sessions through the gateway, on the real broker and dataflow: a page's seat is its tab's.

The page sends its tab's session in the socket's URL; the gateway puts it in every
intent, so the dataflow seats it. A page gone for good (its sockets closed and none came
back within MOBA_GATEWAY_LEAVE_GRACE_S) is left by the gateway; a page that reloads in
time keeps its seat, and another session cannot act as it meanwhile.
"""

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from domain.seats import holder_of
from infra.settings import Settings
from tests.gateway_process import Frame, GatewayProcess, frames_until, next_frame

pytestmark = pytest.mark.slow

TAB = "tab-one-1234"
OTHER = "tab-two-5678"


@pytest.fixture
def gateway(settings: Settings, run_dataflow, tmp_path: Path) -> Iterator[GatewayProcess]:
    """The dataflow and `moba api` with a one-second grace before a closed page's seat is left."""
    run_dataflow()
    quick = settings.model_copy(update={"gateway_leave_grace_s": 1.0})
    process = GatewayProcess(quick, tmp_path / "gateway.log").start()
    yield process
    process.stop()


def play_url(gateway: GatewayProcess, game: int, player: str, session: str) -> str:
    return f"{gateway.base}/games/{game}/play?player={player}&session={session}"


def last_is(kind: str, player: str) -> Callable[[Frame], bool]:
    return lambda f: (f.get("last") or {}).get("type") == kind and f["last"]["player"] == player


def test_a_closed_page_is_left_after_the_grace_and_its_seat_is_free_again(gateway) -> None:
    async def scenario() -> tuple[Frame, Frame]:
        async with connect(f"{gateway.base}/games/3/watch") as spectator:
            await next_frame(spectator)
            async with connect(play_url(gateway, 3, "A2", TAB)) as page:
                await next_frame(page)
                await page.send(json.dumps({"type": "join", "action_id": "j"}))
                claimed = (await frames_until(page, last_is("join", "A2")))[-1]
            # the tab closed: no frame of its own, the gateway leaves for it after the grace
            left = (await frames_until(spectator, last_is("leave", "A2")))[-1]
            return claimed, left

    claimed, left = asyncio.run(scenario())
    assert claimed["seats"]["A2"]["holder"] == holder_of(TAB)
    assert left["last"]["accepted"] and "A2" not in left["seats"]
    log = gateway.log_path.read_text()
    assert f"session={TAB}" not in log and "session=…" in log  # kept out of the server's log


def test_a_page_that_reconnects_within_the_grace_keeps_its_seat(gateway) -> None:
    async def scenario() -> tuple[Frame, list[Frame]]:
        async with connect(f"{gateway.base}/games/4/watch") as spectator:
            await next_frame(spectator)
            async with connect(play_url(gateway, 4, "B1", TAB)) as page:
                await next_frame(page)
                await page.send(json.dumps({"type": "join", "action_id": "j1"}))
                await frames_until(page, last_is("join", "B1"))
            async with connect(play_url(gateway, 4, "B1", TAB)) as page:  # the page reloaded
                await next_frame(page)
                async with connect(play_url(gateway, 4, "B1", OTHER)) as intruder:
                    await next_frame(intruder)
                    await intruder.send(json.dumps({"type": "join", "action_id": "x"}))
                    refused = (await frames_until(intruder, last_is("join", "B1")))[-1]
                # a seat closed after B1's first socket: its leave comes after B1's would have
                async with connect(play_url(gateway, 4, "A1", OTHER)) as later:
                    await next_frame(later)
                    await later.send(json.dumps({"type": "join", "action_id": "a"}))
                    await frames_until(later, last_is("join", "A1"))
                return refused, await frames_until(spectator, last_is("leave", "A1"))

    refused, seen = asyncio.run(scenario())
    assert refused["last"]["accepted"] is False and refused["last"]["reason"] == "seat_taken"
    assert not any(last_is("leave", "B1")(f) for f in seen)
    assert seen[-1]["seats"]["B1"]["holder"] == holder_of(TAB)


def test_a_malformed_session_closes_the_socket_with_4400(gateway) -> None:
    async def scenario() -> tuple[int, str]:
        async with connect(play_url(gateway, 1, "A1", "short")) as ws:
            try:
                await asyncio.wait_for(ws.recv(), 10)
            except Exception as closed:  # the server's close
                rcvd = getattr(closed, "rcvd", None)
                assert rcvd is not None
                return rcvd.code, rcvd.reason
        raise AssertionError("not closed")

    assert asyncio.run(scenario()) == (4400, "malformed session: 8 to 64 letters, digits, - or _")
