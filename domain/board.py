"""The map: board size, the talk's walls, start positions and what a direction means."""

from typing import Literal

Direction = Literal["up", "down", "left", "right"]
Team = Literal["A", "B"]
Cell = tuple[int, int]

WIDTH = 9
HEIGHT = 10
GRENADES = 5
THROW_RANGE = 3

# (x, y) with y growing upwards: row 9 is drawn at the top, as in the talk's picture.
DEFAULT_WALLS: tuple[Cell, ...] = (
    (2, 7), (3, 7), (6, 7), (7, 7),
    (0, 5), (1, 5),
    (6, 4), (7, 4),
    (1, 2), (2, 2), (6, 2), (7, 2),
)  # fmt: skip

START_COLUMNS = (0, 2, 4, 6, 8)
START_ROW: dict[Team, int] = {"A": HEIGHT - 1, "B": 0}
TEAMS: tuple[Team, Team] = ("A", "B")
PLAYERS: tuple[str, ...] = tuple(
    f"{team}{i}" for team in TEAMS for i in range(1, len(START_COLUMNS) + 1)
)

STEPS: dict[Direction, Cell] = {
    "up": (0, 1),
    "down": (0, -1),
    "left": (-1, 0),
    "right": (1, 0),
}
DIRECTIONS: tuple[Direction, ...] = tuple(STEPS)


def step(cell: Cell, direction: Direction) -> Cell:
    """The neighbouring cell in `direction` (possibly off the board)."""
    dx, dy = STEPS[direction]
    return cell[0] + dx, cell[1] + dy


def on_board(cell: Cell, width: int = WIDTH, height: int = HEIGHT) -> bool:
    """Whether `cell` lies inside a `width` x `height` board."""
    return 0 <= cell[0] < width and 0 <= cell[1] < height
