"""The game as the rules play it: small immutable values (named tuples), cheap enough to make per action.

`models.GameState` is the same game's public and wire form, validated by pydantic;
`Game.of(state)` and `game.state()` convert between the two. The rules work on
`Game`s: a server applying tens of thousands of actions a second keeps them, and
everything else can keep to the models (`rules.next_state` converts for them).

A game is three layers that change at different rates: its `Arena` never changes,
its `Board` changes only when an action is accepted, and its version and `last`
outcome change with every action. A rejected action makes one `Game` and one
`Result` and shares the rest; the encoder keys what it remembers on the same layers.
"""

from functools import lru_cache
from typing import NamedTuple

from domain.board import Cell, Direction, Team
from domain.models import ActionType, GameState, Outcome, Player, RejectReason, Status, Winner

# `make(Game, (arena, board, version, last))` builds a named tuple from all its fields in
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

    @classmethod
    def of(cls, game_id: int, width: int, height: int, walls: tuple[Cell, ...]) -> "Arena":
        return cls(game_id, width, height, walls, _open_cells(width, height, walls))


@lru_cache(maxsize=64)
def _open_cells(width: int, height: int, walls: tuple[Cell, ...]) -> frozenset[Cell]:
    """One set per map, shared by every game on it: 78 cells each would be 10 KB a game."""
    cells = {(x, y) for x in range(width) for y in range(height)}
    return frozenset(cells.difference(walls))


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


class Board(NamedTuple):
    """What an accepted action changes: the players, and whether the game is over.

    `players` is never changed once made (the rules copy it), and `occupied` indexes
    where the live players stand, so no rule scans every player to find a cell's.
    """

    status: Status
    winner: Winner | None
    players: dict[str, Piece]
    occupied: frozenset[Cell]

    @classmethod
    def of(
        cls, players: dict[str, Piece], status: Status = "running", winner: Winner | None = None
    ) -> "Board":
        live = frozenset((p.x, p.y) for p in players.values() if p.alive)
        return cls(status, winner, players, live)


class Result(NamedTuple):
    """What happened to the last action applied (`models.Outcome`)."""

    action_id: str
    player: str
    type: ActionType
    direction: Direction | None
    accepted: bool
    reason: RejectReason | None


class Game(NamedTuple):
    """The state of one game after `version` actions (`models.GameState`)."""

    arena: Arena
    board: Board
    version: int
    last: Result | None

    @classmethod
    def of(cls, state: GameState) -> "Game":
        """The game `state` describes."""
        players = {
            name: Piece(p.team, p.x, p.y, p.grenades, p.alive) for name, p in state.players.items()
        }
        last = state.last
        return cls(
            Arena.of(state.game_id, state.width, state.height, state.walls),
            Board.of(players, state.status, state.winner),
            state.version,
            None
            if last is None
            else Result(
                last.action_id, last.player, last.type, last.direction, last.accepted, last.reason
            ),
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
            last=None if last is None else Outcome(**last._asdict()),
        )
