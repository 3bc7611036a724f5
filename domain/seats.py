"""Seats: which session may act as which player, decided by the server from the log.

The first action carrying a session claims a free seat; from then on only that session
acts as that player, until it leaves or idles out (domain/timeouts.py). An action with
no session (older clients, the bots) may act only for a seat nobody holds. The state
is public, so it names a holder by `holder_of(session)`, a digest nobody can turn back
into the session.
"""

import hashlib
from functools import lru_cache

from domain.game import NO_SEATS, Board, Hold, make, oldest_seat
from domain.models import Action, Leave


@lru_cache(maxsize=4096)
def holder_of(session: str) -> str:
    """The public name of a session: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(session.encode()).hexdigest()[:16]


def is_seat_taken(seats: dict[str, Hold], action: Action) -> bool:
    """Whether someone else holds the seat `action` acts for (an action with no session is someone else)."""
    hold = seats.get(action.player)
    if hold is None:
        return False
    session = action.session
    return session is None or holder_of(session) != hold.holder


def seated(seats: dict[str, Hold], action: Action, now: int, running: bool) -> dict[str, Hold]:
    """The seats after `action` was accepted at `now`: claimed, kept alive, or left.

    Only a running game takes claims or leaves; a finished one keeps its holders as they
    were, so its final state says who played which seat (the rematch's players).
    An accepted action's seat is free or already its session's (`is_seat_taken`), so a
    held seat keeps its holder and only its time is new: no digest to compute.
    """
    if not running:
        return seats
    player = action.player
    if type(action) is Leave:
        if player not in seats:
            return seats
        rest = {name: hold for name, hold in seats.items() if name != player}
        return rest or NO_SEATS
    session = action.session
    if session is None:
        return seats
    hold = seats.get(player)
    if hold is None:
        return {**seats, player: make(Hold, (holder_of(session), now))}
    if hold.last == now:
        return seats
    return {**seats, player: make(Hold, (hold.holder, now))}


def oldest_after(before: Board, seats: dict[str, Hold], player: str) -> int | None:
    """`oldest_seat` of `seats`, which are `before`'s seats with at most `player`'s changed.

    Only when that seat held the oldest time are all the seats looked at again: a claim
    or a refresh adds a time, a leave takes one away.
    """
    oldest = before.oldest_seat
    if seats is before.seats:
        return oldest
    gone = before.seats.get(player)
    if oldest is None or (gone is not None and gone.last == oldest):
        return oldest_seat(seats)
    new = seats.get(player)
    return oldest if new is None or new.last >= oldest else new.last
