"""The gateway through faults: a broker frozen for 30 s, and a gateway killed with kill -9.

Nothing is lost silently: every intent a socket sent ends in a state that applied it or
in an `undelivered` frame, sockets stay open through the freeze, and a socket opened on
a restarted gateway starts from the game's latest state on the `games` topic.
"""

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.workload import fresh_settings
from dataflows import launch
from domain.wire import decode_state
from infra.broker import EmbeddedBroker, free_port
from infra.settings import Settings
from tests.gateway_process import (
    Frame,
    GatewayProcess,
    collect,
    frames_until,
    is_state,
    next_frame,
)
from tests.kafka_helpers import Reached, read_topic, states_by_game

pytestmark = pytest.mark.slow

FREEZE_S = 30.0
SEND_EVERY_S = 3.0


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of this test's own: freezing the session one would stall every other test."""
    with EmbeddedBroker(port=free_port(), log_path=tmp_path / "broker.log") as running:
        yield running


def move(n: int) -> str:
    return json.dumps(
        {"type": "move", "direction": "up" if n % 2 else "down", "action_id": f"m{n}"}
    )


def applied(frames: list[Frame]) -> set[str]:
    """The action ids whose state is among `frames`."""
    return {f["last"]["action_id"] for f in frames if is_state(f) and f["last"]}


def accounted(frames: list[Frame], action_ids: set[str]) -> set[str]:
    """The action ids that got their state or an `undelivered` report among `frames`."""
    reported = {f["action_id"] for f in frames if f.get("type") == "undelivered"}
    return action_ids & (applied(frames) | reported)


def test_a_30_s_broker_freeze_keeps_sockets_open_and_loses_no_intent(own_broker, tmp_path) -> None:
    settings = fresh_settings(
        own_broker.bootstrap_servers, tmp_path / "data", partitions=4, snapshot_interval_s=0.2
    )
    flow = launch.start(settings, tmp_path / "dataflow.log")
    gateway = GatewayProcess(settings, tmp_path / "gateway.log").start()
    game = 2
    sent: set[str] = set()

    async def scenario() -> tuple[list[Frame], list[Frame]]:
        async with (
            connect(f"{gateway.base}/games/{game}/play?player=A3") as player,
            connect(f"{gateway.base}/games/{game}/watch") as spectator,
        ):
            await player.send(json.dumps({"type": "join", "action_id": "hello"}))
            seen = await frames_until(player, lambda f: f.get("version") == 1)
            own_broker.pause()
            try:
                frozen_until = time.monotonic() + FREEZE_S
                while (left := frozen_until - time.monotonic()) > 0:
                    await player.send(move(len(sent)))  # an intent every few seconds
                    sent.add(f"m{len(sent)}")
                    try:
                        async with asyncio.timeout(min(SEND_EVERY_S, left)):
                            while True:
                                seen.append(json.loads(await player.recv()))
                    except TimeoutError:
                        pass  # nothing more for now: time for the next intent
            finally:
                own_broker.resume()
            flow.raise_if_exited()
            await collect(player, seen, lambda frames: accounted(frames, sent) == sent, 120)
            await player.send(json.dumps({"type": "join", "action_id": "after"}))
            await collect(player, seen, lambda frames: applied(frames) >= {"after"}, 60)
            final = max(f["version"] for f in seen if is_state(f))
            watched = await frames_until(spectator, lambda f: f.get("version") == final)
            return seen, watched

    seen, watched = asyncio.run(scenario())
    flow.stop()
    gateway.stop()

    assert accounted(seen, sent) == sent
    for frames in (seen, watched):
        versions = [f["version"] for f in frames if is_state(f)]
        assert versions == sorted(set(versions)), "a socket went back or repeated a version"
    undelivered = [f for f in seen if f.get("type") == "undelivered"]
    print(f"{len(sent)} intents during the freeze: {len(undelivered)} reported undelivered")


def test_a_socket_on_a_restarted_gateway_resumes_from_the_latest_state(
    settings: Settings, run_dataflow, tmp_path
) -> None:
    run_dataflow()
    gateway = GatewayProcess(settings, tmp_path / "gateway-0.log").start()
    game = 6

    async def play_until_killed() -> int:
        async with connect(f"{gateway.base}/games/{game}/play?player=B2") as ws:
            await ws.send(json.dumps({"type": "join"}))
            for n in range(10):
                await ws.send(move(n))
            last = (await frames_until(ws, lambda f: f.get("version") == 11))[-1]
            for n in range(10, 20):  # some of these may die with the gateway
                await ws.send(move(n))
            gateway.kill()
            try:
                async with asyncio.timeout(10):
                    while True:
                        await ws.recv()
            except ConnectionClosed as closed:
                assert closed.rcvd is None, "a killed gateway sends no close frame"
            return int(last["version"])

    seen_before = asyncio.run(play_until_killed())
    restarted = GatewayProcess(settings, tmp_path / "gateway-1.log")
    restarted.settings = gateway.settings  # the same port, as after a restart
    restarted.start()
    topic = states_by_game(
        read_topic(settings, settings.games_topic, Reached({game: seen_before}), timeout_s=30)
    )
    newest_on_topic = max(s.version for s in topic[game])

    async def resume() -> tuple[Frame, Frame]:
        async with connect(f"{restarted.base}/games/{game}/watch") as watcher:
            first = await next_frame(watcher)
            async with connect(f"{restarted.base}/games/{game}/play?player=B2") as ws:
                await ws.send(
                    json.dumps({"type": "move", "direction": "left", "action_id": "back"})
                )
                latest = (await frames_until(watcher, lambda f: f["last"]["action_id"] == "back"))[
                    -1
                ]
        return first, latest

    first, latest = asyncio.run(resume())
    restarted.stop()

    assert decode_state(json.dumps(first)) == next(
        s for s in topic[game] if s.version == newest_on_topic
    )
    assert latest["version"] == newest_on_topic + 1
