"""The talk's text board: a header, rows 9 down to 0, four-character cells.

`board_cells` gives the grid to presenters that style cells themselves (the client
highlights its own player); `render_board` gives the plain text the CLI prints.
"""

from domain.models import GameState

EMPTY = "    "
WALL = "XXXX"


def header(state: GameState, viewer: str | None = None) -> str:
    """`*** Game 2-A, Player A2 ***` for a player, `*** Game 2 ***` for a spectator."""
    player = state.players.get(viewer) if viewer else None
    if player is None:
        return f"*** Game {state.game_id} ***"
    return f"*** Game {state.game_id}-{player.team}, Player {viewer} ***"


def cell_label(name: str, grenades: int) -> str:
    """`A1-5`: player A1 holding five grenades."""
    return f"{name}-{grenades}"


def board_cells(state: GameState) -> list[tuple[int, list[str]]]:
    """(row label, cells left to right) for rows from the top (y = height-1) down to 0."""
    grid = {(x, y): EMPTY for x in range(state.width) for y in range(state.height)}
    for wall in state.walls:
        grid[wall] = WALL
    for name, p in state.players.items():
        if p.alive:
            grid[p.cell] = cell_label(name, p.grenades)
    return [
        (y, [grid[(x, y)] for x in range(state.width)]) for y in range(state.height - 1, -1, -1)
    ]


def render_board(state: GameState, viewer: str | None = None) -> str:
    """The whole board as text, header first, one line per row, cells separated by a space."""
    lines = [header(state, viewer)]
    lines += [f"{y} {' '.join(cells)}" for y, cells in board_cells(state)]
    lines.append("  " + " ".join(f"{x:^4}" for x in range(state.width)))
    return "\n".join(lines)
