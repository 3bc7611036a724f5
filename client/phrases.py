"""The words the client shows: one phrase per rejection reason and per accepted outcome."""

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
}


def outcome_words(outcome: Outcome) -> str:
    """`moved left`, `threw up`, `joined`, or the rejection phrase."""
    if not outcome.accepted:
        return REJECTIONS.get(outcome.reason, "rejected") if outcome.reason else "rejected"
    if outcome.type == "move":
        return f"moved {outcome.direction}"
    if outcome.type == "throw":
        return f"threw a grenade {outcome.direction}"
    return "joined"
