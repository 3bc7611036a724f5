"""The WebSocket endpoints: a seat's intents in, its game's states out, one Kafka client each way.

`Gateway` holds the process's one `StateHub` (consumer) and one `IntentProducer`; the
app opens them in its lifespan. Each socket is a `Subscriber` (its outbox) and a task
that sends what the outbox holds, so a slow socket only ever waits for itself.
docs/gateway.md is the protocol.
"""

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Iterator

from fastapi import FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from api.gateway.departures import Departures
from api.gateway.hub import Snapshot, StateHub
from api.gateway.intents import IntentProducer
from api.gateway.rematch import add_rematch
from api.gateway.seats import MALFORMED, Refusal, Seat, game_of, redact_tokens_in_server_logs
from api.gateway.subscriber import Subscriber
from api.metrics import IntentLatency
from infra.settings import Settings

INTERNAL_ERROR = 1011
log = logging.getLogger("moba.gateway")


@dataclasses.dataclass
class Holding:
    """One play socket's hold on its seat: `left` once its last intent was a `leave`."""

    left: bool = False


class Gateway:
    """The process's Kafka clients for every socket: started and stopped by the app's lifespan."""

    def __init__(
        self, settings: Settings, snapshot: Snapshot, latency: IntentLatency | None = None
    ) -> None:
        self.settings = settings
        self.hub = StateHub(settings, snapshot)
        self.intents = IntentProducer(settings)
        self.departures = Departures[Seat](settings.gateway_leave_grace_s, self.leave)
        self.latency = latency
        self.sockets = 0  # open now, for /metrics
        if latency is not None:
            self.hub.on_state = latency.seen

    def start(self) -> None:
        redact_tokens_in_server_logs()
        self.hub.start()
        self.intents.start()

    def stop(self) -> None:
        self.departures.forget_all()  # players of a stopping gateway come back to another
        self.intents.stop()
        self.hub.stop()

    def leave(self, seat: Seat) -> None:
        """Free `seat`: its page is gone and did not come back within the grace."""
        log.info("leaving %s of game %s: its sockets closed", seat.player, seat.game_id)
        self.intents.send(seat.leave(), _log_undelivered)

    @contextlib.asynccontextmanager
    async def held(self, seat: Seat, subscriber: Subscriber) -> AsyncIterator[Holding]:
        """While the block runs, a socket holds `seat`; after it, the seat is left unless it returns.

        No `leave` is due for a socket without a session (it holds no seat of its own),
        one whose last intent was its own `leave`, or one whose last state shows the
        seat held by another session, or the game over.
        """
        holding = Holding()
        if seat.session is None:
            yield holding
            return
        self.departures.arrived(seat)
        try:
            yield holding
        finally:
            gone = holding.left or not seat.may_hold(subscriber.latest)
            self.departures.departed(seat, left=gone)

    @contextlib.asynccontextmanager
    async def session(self, websocket: WebSocket, game_id: int) -> AsyncIterator[Subscriber]:
        """The socket subscribed to its game, with its outbox being sent, until the block ends."""
        subscriber = Subscriber(self.settings.gateway_socket_buffer)
        sender = asyncio.create_task(_send(websocket, subscriber))
        self.sockets += 1
        try:
            await self.hub.subscribe(game_id, subscriber)
            yield subscriber
        finally:
            self.sockets -= 1
            self.hub.unsubscribe(game_id, subscriber)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender


def add_gateway(app: FastAPI, gateway: Gateway) -> None:
    """Mount `/games/{game_id}/play`, `/games/{game_id}/watch` and the rematch's seat on `app`."""
    add_rematch(app, gateway.settings)

    @app.websocket("/games/{game_id}/play")
    async def play(
        websocket: WebSocket,
        game_id: str,
        player: str | None = None,
        token: str | None = None,
        session: str | None = None,
    ) -> None:
        """A player's socket: the game's states out, the seat's intents in."""
        await websocket.accept()
        with _closing_on_refusal() as close:
            secret = gateway.settings.secret_key
            seat = Seat.check(game_of(game_id), player, token, secret, session)
            async with (
                gateway.session(websocket, seat.game_id) as subscriber,
                gateway.held(seat, subscriber) as holding,
            ):
                await _take_intents(websocket, seat, subscriber, gateway, holding)
        await close(websocket)

    @app.websocket("/games/{game_id}/watch")
    async def watch(websocket: WebSocket, game_id: str) -> None:
        """A spectator's socket: the game's states out, nothing in."""
        await websocket.accept()
        with _closing_on_refusal() as close:
            async with gateway.session(websocket, game_of(game_id)):
                if await _frame(websocket) is not None:
                    raise Refusal(MALFORMED, "malformed frame: a watch socket takes no frames")
        await close(websocket)


async def _take_intents(
    websocket: WebSocket, seat: Seat, subscriber: Subscriber, gateway: Gateway, holding: Holding
) -> None:
    """Hand each frame's intent to the producer until the client leaves; failures come back as reports."""

    def undelivered(action_id: str, reason: str) -> None:
        subscriber.report(
            json.dumps({"type": "undelivered", "action_id": action_id, "reason": reason})
        )

    max_bytes = gateway.settings.max_action_bytes
    while (text := await _frame(websocket)) is not None:
        action = seat.action(text, max_bytes)
        holding.left = action.type == "leave"
        if gateway.latency is not None:
            gateway.latency.sent(action.action_id)
        gateway.intents.send(action, undelivered)


def _log_undelivered(action_id: str, reason: str) -> None:
    log.warning("a leave was not delivered (%s): the seat idles out instead", reason)


async def _frame(websocket: WebSocket) -> str | None:
    """The next text frame, None when the client has gone; a binary frame is refused."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return None
    text = message.get("text")
    if text is None:
        raise Refusal(MALFORMED, "malformed frame: frames are JSON text, not binary")
    return str(text)


async def _send(websocket: WebSocket, subscriber: Subscriber) -> None:
    """Send the outbox as it fills; ends quietly when the client has gone."""
    try:
        while True:
            for text in await subscriber.next():
                await websocket.send_text(text)
    except (WebSocketDisconnect, RuntimeError, OSError):
        return  # the receiving side sees the disconnect and ends the session


class _Closer:
    """How the socket ends: with the refusal's code and reason, or an internal error's, or as is."""

    def __init__(self) -> None:
        self.code: int | None = None
        self.reason = ""

    async def __call__(self, websocket: WebSocket) -> None:
        if self.code is None or websocket.application_state != WebSocketState.CONNECTED:
            return
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await websocket.close(self.code, self.reason)


@contextlib.contextmanager
def _closing_on_refusal() -> Iterator[_Closer]:
    """Turn a refusal or an unexpected error into the close code and reason to end with."""
    closer = _Closer()
    try:
        yield closer
    except Refusal as refusal:
        closer.code, closer.reason = refusal.code, refusal.reason
    except Exception as err:
        log.exception("gateway socket failed")
        closer.code, closer.reason = INTERNAL_ERROR, f"internal error: {type(err).__name__}"
