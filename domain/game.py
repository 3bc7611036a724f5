"""The game as the rules play it: small immutable values (named tuples), cheap enough to make per action.

`models.GameState` is the same game's public and wire form, validated by pydantic;
`Game.of(state)` and `game.state()` convert between the two. The rules work on
`Game`s: a server applying tens of thousands of actions a second keeps them, and
everything else can keep to the models (`rules.next_state` converts for them).

A game is layers that change at different rates: its `Arena` never changes,
its `Board` changes only when an action is accepted (or time frees a seat or ends the
game), and its version, `last` outcome and `Clock` change with every action. A rejected
action makes one `Game`, one `Result` and at most one `Clock`, and shares the rest;
the encoder keys what it remembers on the same layers.

The `Clock` is not part of the public state: it is log time (the Kafka timestamps of
the records the game has seen), which the server keeps in its snapshots beside the
state, and a replay rebuilds from the same records.
"""

from functools import lru_cache
from typing import NamedTuple

from domain.board import DIRECTIONS, Cell, Direction, Team, step
from domain.models import (
    ActionType,
    GameState,
    Outcome,
    Player,
    RejectReason,
    Seat,
    Status,
    Winner,
)

# `make(Game, (arena, board, version, last, clock))` builds a named tuple from all its fields in
# order without running the named tuple's constructor, a Python function that costs
# three times as much; the rules make two to four of these per action.
make = tuple.__new__


class Arena(NamedTuple):
    """What never changes during a game: its id and its map."""

    game_id: int
    width: int
    height: int
    walls: tuple[Cell, ...]  # in the wire's order
    open_cells: frozenset[Cell]  # on the board and not a wall: where a player or a grenade can be
    # cell on the board -> direction -> the open cell one step that way, or None (a wall, the
    # edge): where a move or a throw goes and whether it may, in one lookup; never changed
    neighbours: dict[Cell, dict[Direction, Cell | None]]

    @classmethod
    def of(cls, game_id: int, width: int, height: int, walls: tuple[Cell, ...]) -> "Arena":
        open_cells = _open_cells(width, height, walls)
        neighbours = _neighbours(width, height, open_cells)
        return cls(game_id, width, height, walls, open_cells, neighbours)

    def target(self, x: int, y: int, direction: Direction) -> Cell | None:
        """The open cell one step from (x, y) in `direction`, or None if a wall or the edge is there."""
        row = self.neighbours.get((x, y))
        if row is None:  # off the board: only a state made by hand puts a player there
            return _open_step(self.open_cells, (x, y), direction)
        return row[direction]


@lru_cache(maxsize=64)
def _open_cells(width: int, height: int, walls: tuple[Cell, ...]) -> frozenset[Cell]:
    """One set per map, shared by every game on it: 78 cells each would be 10 KB a game."""
    cells = {(x, y) for x in range(width) for y in range(height)}
    return frozenset(cells.difference(walls))


@lru_cache(maxsize=64)
def _neighbours(
    width: int, height: int, open_cells: frozenset[Cell]
) -> dict[Cell, dict[Direction, Cell | None]]:
    """One table per map, shared by every game on it, like its open cells."""
    return {
        (x, y): {d: _open_step(open_cells, (x, y), d) for d in DIRECTIONS}
        for x in range(width)
        for y in range(height)
    }


def _open_step(open_cells: frozenset[Cell], cell: Cell, direction: Direction) -> Cell | None:
    target = step(cell, direction)
    return target if target in open_cells else None


class Piece(NamedTuple):
    """One player on the board (`models.Player`): an eliminated one keeps its last position."""

    team: Team
    x: int
    y: int
    grenades: int
    alive: bool = True

    @property
    def cell(self) -> Cell:
        return self.x, self.y


class Hold(NamedTuple):
    """A taken seat (`models.Seat`): the digest of its holder's session, and its last action's time."""

    holder: str
    last: int


NO_SEATS: dict[str, Hold] = {}  # shared by every game nobody has claimed a seat in; never changed


class Board(NamedTuple):
    """What an accepted action changes: the players, the seats, and whether the game is over.

    `players` and `seats` are never changed once made (the rules copy them), and
    `occupied` indexes where the live players stand, so no rule scans every player
    to find a cell's; likewise `oldest_seat` is the earliest `last` of the seats (None
    if none is taken), so the timeouts compare one time, not every seat, per action.
    """

    status: Status
    winner: Winner | None
    players: dict[str, Piece]
    occupied: frozenset[Cell]
    seats: dict[str, Hold]
    rematch: int | None
    oldest_seat: int | None

    @classmethod
    def of(
        cls,
        players: dict[str, Piece],
        status: Status = "running",
        winner: Winner | None = None,
        seats: dict[str, Hold] = NO_SEATS,
        rematch: int | None = None,
    ) -> "Board":
        live = frozenset((p.x, p.y) for p in players.values() if p.alive)
        seats = seats or NO_SEATS
        return cls(status, winner, players, live, seats, rematch, oldest_seat(seats))


def oldest_seat(seats: dict[str, Hold]) -> int | None:
    """The earliest `last` of `seats`, None if there are none (`Board.oldest_seat`)."""
    return min((hold.last for hold in seats.values()), default=None)


class Result(NamedTuple):
    """What happened to the last action applied (`models.Outcome`)."""

    action_id: str
    player: str
    type: ActionType
    direction: Direction | None
    accepted: bool
    reason: RejectReason | None


class Clock(NamedTuple):
    """A game's log time, in ms since the epoch: what its timeouts are measured against."""

    now: int  # the latest record time the game has seen (time never goes back)
    active: int  # when an action was last accepted (or the game's first record)
    ended: int | None  # when it finished or was abandoned


START_CLOCK = Clock(0, 0, None)


class Game(NamedTuple):
    """The state of one game after `version` actions (`models.GameState`), and its clock."""

    arena: Arena
    board: Board
    version: int
    last: Result | None
    clock: Clock = START_CLOCK

    @classmethod
    def of(cls, state: GameState, clock: Clock = START_CLOCK) -> "Game":
        """The game `state` describes, at `clock` (a state alone does not say its time)."""
        players = {
            name: Piece(p.team, p.x, p.y, p.grenades, p.alive) for name, p in state.players.items()
        }
        last = state.last
        return cls(
            Arena.of(state.game_id, state.width, state.height, state.walls),
            Board.of(
                players,
                state.status,
                state.winner,
                {name: Hold(s.holder, s.last) for name, s in state.seats.items()},
                state.rematch,
            ),
            state.version,
            None
            if last is None
            else Result(
                last.action_id, last.player, last.type, last.direction, last.accepted, last.reason
            ),
            clock,
        )

    def state(self) -> GameState:
        """This game as the public, validated model."""
        arena, board, last = self.arena, self.board, self.last
        return GameState(
            game_id=arena.game_id,
            version=self.version,
            status=board.status,
            winner=board.winner,
            width=arena.width,
            height=arena.height,
            walls=arena.walls,
            players={name: Player(**p._asdict()) for name, p in board.players.items()},
            seats={name: Seat(holder=h.holder, last=h.last) for name, h in board.seats.items()},
            rematch=board.rematch,
            last=None if last is None else Outcome(**last._asdict()),
        )
