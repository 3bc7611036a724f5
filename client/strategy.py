"""The bots' strategy: one intent from a state, a pure function, deterministic given its `rng`.

Throw when a grenade would hit an opponent and no team mate (nor the thrower); else
walk toward the nearest cell from which such a throw exists; never into a wall, an
edge or another player.
"""

import functools
import random
from collections import deque
from typing import Literal

from domain.board import DIRECTIONS, Cell, Direction, on_board, step
from domain.models import GameState
from domain.rules import blast_cells, landing_cell, new_game

WANDER = 0.1  # how often a bot takes a random legal step, so two bots never lock each other

Choice = tuple[Literal["move", "throw"], Direction]  # what a bot does: an action type and its direction


def choose(state: GameState, player: str, rng: random.Random) -> Choice | None:
    """What `player` does next in `state`; None when it can do nothing (eliminated, game over)."""
    me = state.players.get(player)
    if me is None or not me.alive or state.status != "running":
        return None
    if me.grenades > 0:
        throw = best_throw(state, player, me.cell)
        if throw is not None:
            return "throw", throw
    move = best_move(state, player, rng)
    return ("move", move) if move is not None else None


def hits(state: GameState, player: str, cell: Cell, direction: Direction) -> tuple[int, int]:
    """(opponents, team mates or self) a throw from `cell` would eliminate; (0, 0) if blocked."""
    return _hits(state, _sides(state, player), cell, direction)


def best_throw(state: GameState, player: str, cell: Cell) -> Direction | None:
    """The throw from `cell` that hits the most opponents and no friend, if any hits one."""
    return _best_throw(state, _sides(state, player), cell)


def _best_throw(state: GameState, sides: "_Sides", cell: Cell) -> Direction | None:
    best: tuple[int, Direction] | None = None
    for direction in DIRECTIONS:
        foes, friends = _hits(state, sides, cell, direction)
        if foes > 0 and friends == 0 and (best is None or foes > best[0]):
            best = foes, direction
    return best[1] if best is not None else None


_Sides = tuple[set[Cell], set[Cell]]  # (cells of live opponents, cells of live team mates)


def _sides(state: GameState, player: str) -> _Sides:
    team = state.players[player].team
    live = [(n, p) for n, p in state.players.items() if p.alive and n != player]
    return {p.cell for _, p in live if p.team != team}, {p.cell for _, p in live if p.team == team}


def _hits(state: GameState, sides: _Sides, cell: Cell, direction: Direction) -> tuple[int, int]:
    blast = _blasts(state.width, state.height, state.walls).get((cell, direction))
    if blast is None:  # the first cell is a wall or off the board
        return 0, 0
    foes, friends = sides
    return len(blast & foes), len(blast & friends) + (cell in blast)


@functools.cache
def _blasts(
    width: int, height: int, walls: tuple[Cell, ...]
) -> dict[tuple[Cell, Direction], frozenset[Cell]]:
    """Every throw's blast on an empty board of this layout (players never stop a grenade)."""
    board = new_game(0).model_copy(update={"width": width, "height": height, "walls": walls})
    blasts = {}
    for x in range(width):
        for y in range(height):
            for direction in DIRECTIONS:
                first = step((x, y), direction)
                if on_board(first, width, height) and first not in walls:
                    landing = landing_cell(board, (x, y), direction)
                    blasts[(x, y), direction] = frozenset(blast_cells(board, landing))
    return blasts


def legal_moves(state: GameState, player: str) -> list[Direction]:
    """Directions `player` can step in: on the board, no wall, nobody there."""
    me = state.players[player].cell
    taken = {p.cell for n, p in state.players.items() if p.alive and n != player}
    return [d for d in DIRECTIONS if _free(state, step(me, d), taken)]


def best_move(state: GameState, player: str, rng: random.Random) -> Direction | None:
    """A legal step toward the nearest firing cell (else the nearest opponent); None if boxed in."""
    moves = legal_moves(state, player)
    if not moves:
        return None
    if rng.random() < WANDER:
        return rng.choice(moves)
    me = state.players[player]
    distance = _distances_to_targets(state, player)
    here = me.cell

    def cost(d: Direction) -> float:
        return distance.get(step(here, d), float("inf"))

    best = min(cost(d) for d in moves)
    if best == float("inf"):
        best_moves = _toward_nearest_opponent(state, player, moves)
    else:
        best_moves = [d for d in moves if cost(d) == best]
    return rng.choice(best_moves)


def _distances_to_targets(state: GameState, player: str) -> dict[Cell, int]:
    """Walking distance from each reachable cell to the nearest cell a hitting throw leaves from."""
    taken = {p.cell for n, p in state.players.items() if p.alive and n != player}
    cells = [
        (x, y)
        for x in range(state.width)
        for y in range(state.height)
        if _free(state, (x, y), taken)
    ]
    sides = _sides(state, player)
    targets = [c for c in cells if _best_throw(state, sides, c) is not None]
    distance = dict.fromkeys(targets, 0)
    queue = deque(targets)
    while queue:
        cell = queue.popleft()
        for d in DIRECTIONS:
            nxt = step(cell, d)
            if nxt not in distance and _free(state, nxt, taken):
                distance[nxt] = distance[cell] + 1
                queue.append(nxt)
    return distance


def _toward_nearest_opponent(
    state: GameState, player: str, moves: list[Direction]
) -> list[Direction]:
    me = state.players[player]
    foes = [p.cell for p in state.players.values() if p.alive and p.team != me.team]
    if not foes:
        return moves

    def gap(d: Direction) -> int:
        x, y = step(me.cell, d)
        return min(abs(x - fx) + abs(y - fy) for fx, fy in foes)

    nearest = min(gap(d) for d in moves)
    return [d for d in moves if gap(d) == nearest]


def _free(state: GameState, cell: Cell, taken: set[Cell]) -> bool:
    return (
        on_board(cell, state.width, state.height) and cell not in state.walls and cell not in taken
    )
