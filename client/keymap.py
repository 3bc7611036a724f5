"""Which key means which intent: arrows move, W/A/S/D throw. Presentation, not rules."""

from domain.board import Direction
from domain.models import Action, Move, Throw

MOVE_KEYS: dict[str, Direction] = {"up": "up", "down": "down", "left": "left", "right": "right"}
THROW_KEYS: dict[str, Direction] = {"w": "up", "a": "left", "s": "down", "d": "right"}
QUIT_KEYS = ("q",)
INTERRUPT_KEY = "c-c"  # quits like q, then the command exits 130 as after any Ctrl-C
REMATCH_KEY = "n"  # after GAME OVER: the rematch the finished state names


def action_keys() -> list[str]:
    """Every key that sends an intent, as prompt_toolkit names them (W/A/S/D in both cases)."""
    return [*MOVE_KEYS, *THROW_KEYS, *(k.upper() for k in THROW_KEYS)]


def intent(
    key: str,
    game_id: int,
    player: str,
    action_id: str,
    token: str | None = None,
    session: str | None = None,
) -> Action | None:
    """The intent `key` stands for, or None if it stands for none."""
    seat = {"game_id": game_id, "player": player, "token": token, "session": session}
    if key in MOVE_KEYS:
        return Move(**seat, action_id=action_id, direction=MOVE_KEYS[key])
    if key.lower() in THROW_KEYS:
        return Throw(**seat, action_id=action_id, direction=THROW_KEYS[key.lower()])
    return None
