"""Small builders for domain tests: place players where a rule needs them, by folding real actions
where that is short, by direct construction where a scenario would take dozens of moves."""

from domain.models import GameState, Join, Move, Throw
from domain.rules import new_game


def placed(positions: dict[str, tuple[int, int]], game_id: int = 2, **changes: object) -> GameState:
    """A new game with the named players moved to `positions` (other players where they start)."""
    state = new_game(game_id)
    players = dict(state.players)
    for name, (x, y) in positions.items():
        players[name] = players[name].model_copy(update={"x": x, "y": y})
    return state.model_copy(update={"players": players, **changes})


def move(player: str, direction: str, game_id: int = 2, action_id: str = "") -> Move:
    return Move(game_id=game_id, player=player, direction=direction, action_id=action_id)  # type: ignore[arg-type]


def throw(player: str, direction: str, game_id: int = 2, action_id: str = "") -> Throw:
    return Throw(game_id=game_id, player=player, direction=direction, action_id=action_id)  # type: ignore[arg-type]


def join(player: str, game_id: int = 2) -> Join:
    return Join(game_id=game_id, player=player)
