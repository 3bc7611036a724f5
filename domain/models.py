"""Pydantic models of what travels on the wire: actions (intents) and game states.

Models are frozen so no adapter can change a state behind the rules' back. Actions
ignore unknown fields: the wire format allows extra fields, and anything a client
sends besides its intent is never trusted (there is no way to send coordinates).
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.board import Cell, Direction, Team

MAX_GAME_ID = 2**53 - 1  # the largest integer every JSON implementation reads exactly

RejectReason = Literal[
    "unknown_player",
    "game_over",
    "eliminated",
    "out_of_bounds",
    "wall",
    "occupied",
    "no_grenades",
    "blocked",
    "bad_token",
]
ActionType = Literal["join", "move", "throw"]
Status = Literal["running", "finished"]
Winner = Literal["A", "B", "draw"]

GameId = Annotated[int, Field(ge=0, le=MAX_GAME_ID, strict=True)]
PlayerName = Annotated[str, Field(min_length=1, max_length=16)]
ActionId = Annotated[str, Field(max_length=64)]
Token = Annotated[str, Field(max_length=128)]


class _ActionFields(BaseModel):
    """The fields every action has."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    game_id: GameId
    player: PlayerName
    action_id: ActionId = ""
    token: Token | None = None


class Join(_ActionFields):
    """Changes nothing; makes the server emit the game's current state."""

    type: Literal["join"] = "join"


class Move(_ActionFields):
    """Move one cell in `direction` (the arrow keys)."""

    type: Literal["move"] = "move"
    direction: Direction


class Throw(_ActionFields):
    """Throw a grenade in `direction` (W/A/S/D)."""

    type: Literal["throw"] = "throw"
    direction: Direction


Action = Annotated[Join | Move | Throw, Field(discriminator="type")]


class Player(BaseModel):
    """One player. An eliminated player keeps its last position but occupies no cell."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    team: Team
    x: int
    y: int
    grenades: int
    alive: bool = True

    @property
    def cell(self) -> Cell:
        return self.x, self.y


class Outcome(BaseModel):
    """What happened to the last action applied: echoed back so the client can tell its player."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action_id: str
    player: str
    type: ActionType
    direction: Direction | None = None
    accepted: bool
    reason: RejectReason | None = None


class GameState(BaseModel):
    """The authoritative state of one game after `version` actions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    game_id: GameId
    version: int = 0
    status: Status = "running"
    winner: Winner | None = None
    width: int
    height: int
    walls: tuple[Cell, ...]
    players: dict[str, Player]
    last: Outcome | None = None

    def live_players(self, team: Team) -> int:
        """How many players of `team` are still alive."""
        return sum(1 for p in self.players.values() if p.team == team and p.alive)
