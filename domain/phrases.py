"""The words players read: one phrase per rejection reason and per accepted outcome.

Presentation shared by every presenter, like `render`: the terminal client shows them,
and the API serves the same tables to the web page, so a reason reads the same everywhere.
"""

from domain.models import Outcome, RejectReason

REJECTIONS: dict[RejectReason, str] = {
    "unknown_player": "you are not a player of this game",
    "game_over": "the game is over",
    "eliminated": "you are eliminated",
    "out_of_bounds": "can't move there: edge of the board",
    "wall": "can't move there: wall",
    "occupied": "can't move there: another player is there",
    "no_grenades": "can't throw: no grenades left",
    "blocked": "can't throw: a wall or the edge is in the way",
    "bad_token": "the server did not accept your join token",
    "seat_taken": "someone else holds this seat",
}
REJECTED = "rejected"  # a rejection without a known reason
ACCEPTED: dict[str, str] = {
    "move": "moved {direction}",
    "throw": "threw a grenade {direction}",
    "join": "joined",
    "leave": "left the seat",
    "tick": "time ran out",  # a state made by time alone: a seat freed, the game abandoned
}  # by action type; `{direction}` is the action's direction


def outcome_words(outcome: Outcome) -> str:
    """`moved left`, `threw a grenade up`, `joined`, or the rejection phrase."""
    if not outcome.accepted:
        return REJECTIONS.get(outcome.reason, REJECTED) if outcome.reason else REJECTED
    return ACCEPTED[outcome.type].format(direction=outcome.direction)
