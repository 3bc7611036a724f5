"""Claiming a seat: send `join` with the session and wait for the server's answer.

The server decides: the first `join` carrying a session claims a free seat, and the
state that answers it says who won (`last.accepted`, `seats[player].holder`). Two
clients racing for one seat both get an answer; exactly one of them gets the seat.
"""

import queue
import threading
import time
import uuid
from collections.abc import Callable

from client.events import Link
from client.transport import Event, Transport, TransportError
from domain.models import GameState, Join
from domain.seats import holder_of

RESEND_S = 3.0  # a join the dataflow did not answer (it was starting) is sent again


class NoAnswer(RuntimeError):
    """The server did not answer the claim in time; the message says what to check."""


def claim(
    transport: Transport,
    game_id: int,
    player: str,
    session: str,
    *,
    token: str | None = None,
    timeout_s: float = 20.0,
    clock: Callable[[], float] = time.monotonic,
) -> GameState:
    """The state answering our `join` for `player`: ours if `holds(state, player, session)`."""
    events: queue.Queue[Event] = queue.Queue()
    stop = threading.Event()
    reader = threading.Thread(
        target=transport.receive, args=(stop, events.put), name="moba-claim", daemon=True
    )
    reader.start()
    sent: set[str] = set()
    link: Link | None = None
    deadline = clock() + timeout_s
    next_join = clock()
    try:
        while clock() < deadline:
            if clock() >= next_join:
                action_id = f"claim-{uuid.uuid4().hex[:16]}"  # never an earlier claim's
                join = Join(
                    game_id=game_id,
                    player=player,
                    action_id=action_id,
                    token=token,
                    session=session,
                )
                try:
                    transport.send(join)
                    sent.add(action_id)
                except TransportError as err:
                    link = Link(up=False, detail=str(err))
                next_join = clock() + RESEND_S
            try:
                event = events.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(event, Link):
                link = event
            elif isinstance(event, GameState) and event.last and event.last.action_id in sent:
                return event
    finally:
        stop.set()
        reader.join(5)
    why = f"the broker: {link.detail}" if link is not None and not link.up else "the dataflow"
    raise NoAnswer(
        f"no answer to the claim of {player} in game {game_id} within {timeout_s:.0f} s: "
        f"check {why} (moba up starts everything)"
    )


def holds(state: GameState, player: str, session: str) -> bool:
    """Whether `state` says `session` holds `player`'s seat."""
    seat = state.seats.get(player)
    return seat is not None and seat.holder == holder_of(session)
