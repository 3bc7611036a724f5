"""Pydantic models of what travels on the wire: actions (intents) and game states.

Models are frozen so no adapter can change a state behind the rules' back. Actions
ignore unknown fields: the wire format allows extra fields, and anything a client
sends besides its intent is never trusted (there is no way to send coordinates).
States are public (anyone may read `games`): a seat's holder appears there only as a
digest of the holder's session, never as the session itself.
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
    "seat_taken",
]
# `tick` is no player's action: `last.type` of a state that time alone made (a seat freed,
# a game abandoned), written when a clock record reaches the game
ActionType = Literal["join", "move", "throw", "leave", "tick"]
Status = Literal["running", "finished", "abandoned"]
Winner = Literal["A", "B", "draw"]

GameId = Annotated[int, Field(ge=0, le=MAX_GAME_ID, strict=True)]
PlayerName = Annotated[str, Field(min_length=1, max_length=16)]
ActionId = Annotated[str, Field(max_length=64)]
Token = Annotated[str, Field(max_length=128)]
Session = Annotated[str, Field(min_length=8, max_length=64)]
Holder = Annotated[str, Field(min_length=16, max_length=16, pattern="^[0-9a-f]{16}$")]


class _ActionFields(BaseModel):
    """The fields every action has."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    game_id: GameId
    player: PlayerName
    action_id: ActionId = ""
    token: Token | None = None
    # A random string a client makes once per run and sends with every action: the first
    # action carrying it claims a free seat, and from then on only it acts as that player.
    session: Session | None = None


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


class Leave(_ActionFields):
    """Give up the seat this session holds (the player stays on the board, free for another)."""

    type: Literal["leave"] = "leave"


Action = Annotated[Join | Move | Throw | Leave, Field(discriminator="type")]


class Tick(BaseModel):
    """A clock record: no game's action, it lets time reach every game of its partition.

    Written to each partition of `actions` every few seconds (key `tick`); its time is
    the record's Kafka timestamp, like every action's. Anything else in it is ignored.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: Literal["tick"] = "tick"


Record = Annotated[Join | Move | Throw | Leave | Tick, Field(discriminator="type")]


class Seat(BaseModel):
    """A taken seat: who holds it (a digest of the session, not the session) and since when it is idle."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    holder: Holder  # the first 16 hex digits of SHA-256 of the holder's session
    last: int  # log time (ms since the epoch) of the holder's last action


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
    seats: dict[str, Seat] = {}  # the taken seats only, by player, in the order taken
    rematch: GameId | None = None  # once finished: the game the same players play next
    last: Outcome | None = None

    def live_players(self, team: Team) -> int:
        """How many players of `team` are still alive."""
        return sum(1 for p in self.players.values() if p.team == team and p.alive)
