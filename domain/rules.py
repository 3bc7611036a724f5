"""The game's rules as pure functions: apply one action to a state and get the next state.

A rejected action is a normal outcome, not an exception: the version still advances
and `last` says why, because the authoritative server must tell the client.
"""

from collections.abc import Iterable
from typing import TypeVar

from pydantic import BaseModel

from domain.board import (
    DEFAULT_WALLS,
    GRENADES,
    HEIGHT,
    START_COLUMNS,
    START_ROW,
    TEAMS,
    THROW_RANGE,
    WIDTH,
    Cell,
    Direction,
    on_board,
    step,
)
from domain.models import (
    Action,
    GameState,
    Join,
    Move,
    Outcome,
    Player,
    RejectReason,
    Throw,
)

M = TypeVar("M", bound=BaseModel)


def new_game(game_id: int) -> GameState:
    """The default layout: the talk's map, five players a team on their home rows."""
    players = {
        f"{team}{i}": Player(team=team, x=x, y=START_ROW[team], grenades=GRENADES)
        for team in TEAMS
        for i, x in enumerate(START_COLUMNS, start=1)
    }
    return GameState(
        game_id=game_id, width=WIDTH, height=HEIGHT, walls=DEFAULT_WALLS, players=players
    )


def next_state(state: GameState, action: Action) -> GameState:
    """The state after `action`, with its outcome in `last` and `version` advanced by one."""
    reason = rejection(state, action)
    if reason is not None:
        return _record(state, action, reason, {})
    if isinstance(action, Move):
        return _record(state, action, None, _moved(state, action))
    if isinstance(action, Throw):
        return _record(state, action, None, _exploded(state, action))
    return _record(state, action, None, {})


def rejection(state: GameState, action: Action) -> RejectReason | None:
    """Why `action` cannot be applied to `state`, or None if it can (first reason wins)."""
    player = state.players.get(action.player)
    if isinstance(action, Join):
        return "unknown_player" if player is None else None
    if state.status == "finished":
        return "game_over"
    if player is None:
        return "unknown_player"
    if not player.alive:
        return "eliminated"
    target = step(player.cell, action.direction)
    if isinstance(action, Move):
        if not on_board(target, state.width, state.height):
            return "out_of_bounds"
        if target in state.walls:
            return "wall"
        x, y = target
        for p in state.players.values():  # a plain loop: a generator here cost a tenth of the flow
            if p.x == x and p.y == y and p.alive:
                return "occupied"
        return None
    if player.grenades == 0:
        return "no_grenades"
    if not _open(state, target):
        return "blocked"
    return None


def occupied_cells(state: GameState) -> set[Cell]:
    """Cells holding a live player."""
    return {p.cell for p in state.players.values() if p.alive}


def landing_cell(state: GameState, start: Cell, direction: Direction) -> Cell:
    """Where a grenade thrown from `start` lands: up to THROW_RANGE cells, stopped by walls and edges.

    Players do not stop it. The caller checks that the first cell is open.
    """
    landing = start
    for _ in range(THROW_RANGE):
        nxt = step(landing, direction)
        if not _open(state, nxt):
            break
        landing = nxt
    return landing


def blast_cells(state: GameState, centre: Cell) -> set[Cell]:
    """The landing cell and its four orthogonal neighbours on the board."""
    cells = {centre, *(step(centre, d) for d in ("up", "down", "left", "right"))}
    return {c for c in cells if on_board(c, state.width, state.height)}


def fold(game_id: int, actions: Iterable[Action], state: GameState | None = None) -> GameState:
    """Apply `actions` in order, starting from `state` or a new game: the oracle of every replay."""
    current = state if state is not None else new_game(game_id)
    for action in actions:
        current = next_state(current, action)
    return current


def _open(state: GameState, cell: Cell) -> bool:
    return on_board(cell, state.width, state.height) and cell not in state.walls


def _moved(state: GameState, action: Move) -> dict[str, object]:
    player = state.players[action.player]
    x, y = step(player.cell, action.direction)
    return {"players": {**state.players, action.player: _replace(player, x=x, y=y)}}


def _exploded(state: GameState, action: Throw) -> dict[str, object]:
    thrower = state.players[action.player]
    hit = blast_cells(state, landing_cell(state, thrower.cell, action.direction))
    players = dict(state.players)
    players[action.player] = _replace(thrower, grenades=thrower.grenades - 1)
    for name, p in players.items():
        if p.alive and p.cell in hit:
            players[name] = _replace(p, alive=False)
    changes: dict[str, object] = {"players": players}
    standing = [team for team in TEAMS if any(p.alive and p.team == team for p in players.values())]
    if len(standing) < 2:
        changes.update(status="finished", winner=standing[0] if standing else "draw")
    return changes


def _record(
    state: GameState, action: Action, reason: RejectReason | None, changes: dict[str, object]
) -> GameState:
    outcome = _new(
        Outcome,
        action_id=action.action_id,
        player=action.player,
        type=action.type,
        direction=getattr(action, "direction", None),
        accepted=reason is None,
        reason=reason,
    )
    return _replace(state, **changes, version=state.version + 1, last=outcome)


# The rules build about three models per action, so they skip pydantic's generic copying:
# `_replace` is `model_copy(update=...)` for our models (no extra fields, no private
# attributes) and `_new` is a constructor for values the rules derived from valid ones.
# Both make the same objects (same fields, same fields_set) at a third of the cost.
_set = object.__setattr__


def _replace(model: M, **changes: object) -> M:
    copied = model.__class__.__new__(model.__class__)
    _set(copied, "__dict__", {**model.__dict__, **changes})
    _set(copied, "__pydantic_extra__", None)
    _set(copied, "__pydantic_fields_set__", model.__pydantic_fields_set__ | changes.keys())
    _set(copied, "__pydantic_private__", None)
    return copied


def _new(cls: type[M], **fields: object) -> M:
    made = cls.__new__(cls)
    _set(made, "__dict__", fields)
    _set(made, "__pydantic_extra__", None)
    _set(made, "__pydantic_fields_set__", set(fields))
    _set(made, "__pydantic_private__", None)
    return made


def reject(state: GameState, action: Action, reason: RejectReason) -> GameState:
    """Record `action` as rejected for a reason the rules cannot see (e.g. a bad join token)."""
    return _record(state, action, reason, {})
