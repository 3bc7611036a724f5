"""The game: pure rules, models and rendering. Imports nothing but the standard library and pydantic."""

from domain.models import Action, GameState, Join, Move, Outcome, Player, Throw
from domain.rules import fold, new_game, next_state

__all__ = [
    "Action",
    "GameState",
    "Join",
    "Move",
    "Outcome",
    "Player",
    "Throw",
    "fold",
    "new_game",
    "next_state",
]
