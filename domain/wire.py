"""The wire format (JSON, UTF-8) shared by the client, the dataflow, the CLI and the API.

Decoding never raises anything but `InvalidMessage`, whose `reason` is a short
machine-readable word that the dataflow puts on the dead-letter topic.
"""

from collections.abc import Callable
from functools import lru_cache
from itertools import compress
from operator import is_not
from typing import Literal, TypeVar, get_args

from pydantic import TypeAdapter, ValidationError

from domain.board import PLAYERS, Direction
from domain.game import NO_SEATS, Arena, Board, Game, Hold, Piece
from domain.models import (
    Action,
    ActionType,
    GameState,
    Record,
    RejectReason,
    Status,
    Tick,
    Winner,
)

T = TypeVar("T")  # a fragment's value: a player's `Piece` or a seat's `Hold`

DeadLetterReason = Literal["oversized", "not_json", "unknown_type", "invalid_action"]

_ACTION = TypeAdapter[Action](Action)
# pydantic-core's validator itself: the adapter's Python wrapper costs a fifth of a decode
_VALIDATE_ACTION = _ACTION.validator.validate_json
_VALIDATE_RECORD = TypeAdapter[Record](Record).validator.validate_json


class InvalidMessage(ValueError):
    """A message that is not a valid action; `reason` says which kind, `detail` says where."""

    def __init__(self, reason: DeadLetterReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: DeadLetterReason = reason
        self.detail = detail


def decode_action(raw: bytes | None, max_bytes: int = 4096) -> Action:
    """The action in `raw`, or `InvalidMessage` saying why it is not one."""
    action: Action = _decoded(_VALIDATE_ACTION, raw, max_bytes)  # type: ignore[assignment]
    return action


def decode_record(raw: bytes | None, max_bytes: int = 4096) -> Action | Tick:
    """What a message of `actions` holds: an action or a clock record (`InvalidMessage` if neither)."""
    record: Action | Tick = _decoded(_VALIDATE_RECORD, raw, max_bytes)  # type: ignore[assignment]
    return record


def _decoded(validate: Callable[[bytes], object], raw: bytes | None, max_bytes: int) -> object:
    if raw is None:
        raise InvalidMessage("not_json", "empty message (null value)")
    if len(raw) > max_bytes:
        raise InvalidMessage("oversized", f"{len(raw)} bytes > {max_bytes}")
    try:
        return validate(raw)
    except ValidationError as err:
        raise InvalidMessage(_reason(err), _summary(err)) from None
    except (ValueError, RecursionError) as err:  # e.g. undecodable UTF-8 inside the parser
        raise InvalidMessage("not_json", str(err)[:200]) from None


def encode_action(action: Action) -> bytes:
    """`action` as wire JSON, without fields left at their defaults that mean nothing (no token)."""
    return action.model_dump_json(exclude_none=True).encode()


def encode_state(state: GameState) -> bytes:
    """`state` as wire JSON: exactly the bytes of `state.model_dump_json()`, several times faster."""
    return StateEncoder().encode(Game.of(state))


class StateEncoder:
    """Encodes the successive states of one game: exactly `game.state().model_dump_json()`.

    The dataflow encodes every state it emits, so this writes the JSON itself when every
    free-text string (player names, action id) is plain printable ASCII without quotes
    or backslashes, which needs no escaping; anything else goes through pydantic.
    It remembers the JSON of the last arena and board it wrote (a rejected action keeps
    the very same board), and of each player and seat it wrote last: an accepted action
    copies only the players and seats it changed (a move, and its player's seat's time),
    so only those are rewritten. Its output depends on
    the game alone; what it remembers only saves work. The dataflow keeps one per game,
    and tests check it against pydantic along whole games.
    """

    __slots__ = (
        "_arena",
        "_arena_json",
        "_board",
        "_board_json",
        "_fragments",
        "_head",
        "_holds",
        "_names",
        "_pieces",
        "_seat_fragments",
        "_seat_names",
        "_seats",
        "_seats_json",
    )

    def __init__(self) -> None:
        self._arena: Arena | None = None
        self._board: Board | None = None
        self._head = self._arena_json = self._board_json = ""
        # the last board's players, names all checked plain, and each one's JSON
        self._names: tuple[str, ...] = ()
        self._pieces: tuple[Piece, ...] = ()
        self._fragments: list[str] = []
        # the last board's seats, the same for them, and their `,"seats":{...}`
        self._seats: dict[str, Hold] = NO_SEATS
        self._seat_names: tuple[str, ...] = ()
        self._holds: tuple[Hold, ...] = ()
        self._seat_fragments: list[str] = []
        self._seats_json = ',"seats":{}'

    def encode(self, game: Game) -> bytes:
        fast = self._fast_json(game)
        return fast.encode() if fast is not None else game.state().model_dump_json().encode()

    def _fast_json(self, game: Game) -> str | None:
        """The wire JSON of `game` in pydantic's field order, or None if a string would need escaping."""
        if game.arena is not self._arena:
            self._remember_arena(game.arena)
        if game.board is not self._board and not self._remember_board(game.board):
            return None
        last = game.last
        if last is None:
            return f'{self._head}{game.version}{self._board_json},"last":null}}'
        action_id = last[0]
        if not _plain(action_id):
            return None
        outcome = _OUTCOMES.get(last[1:])  # (player, type, direction, accepted, reason)
        if outcome is None:
            player = last[1]
            if not (player in self._names or _plain(player)):
                return None
            outcome = f',"player":"{player}"{_TAILS.get(last[2:]) or _outcome_tail(*last[2:])}'
        return (
            f'{self._head}{game.version}{self._board_json},"last":'
            f'{{"action_id":"{action_id}"{outcome}}}'
        )

    def _remember_arena(self, arena: Arena) -> None:
        walls = ",".join(f"[{x},{y}]" for x, y in arena.walls)
        self._arena, self._board = arena, None
        self._head = f'{{"game_id":{arena.game_id},"version":'
        self._arena_json = (
            f'"width":{arena.width},"height":{arena.height},"walls":[{walls}],"players":{{'
        )

    def _remember_board(self, board: Board) -> bool:
        """Write the JSON of `board`; False (remembering none) if a player's name needs escaping.

        Only the players that are new objects since the last board are rewritten
        (`_rewritten`).
        """
        names, pieces = tuple(board.players), tuple(board.players.values())
        if names != self._names and not all(map(_plain, names)):
            self._board, self._names, self._pieces, self._fragments = None, (), (), []
            return False
        fragments = _rewritten(
            names, pieces, self._names, self._pieces, self._fragments, _player_json
        )
        self._board, self._names, self._pieces, self._fragments = board, names, pieces, fragments
        if board.seats is not self._seats:
            self._remember_seats(board.seats)
        players = ",".join(fragments)
        self._board_json = (
            f"{_ENDING[board.status, board.winner]},{self._arena_json}{players}}}"
            f'{self._seats_json},"rematch":{_int_or_null(board.rematch)}'
        )
        return True

    def _remember_seats(self, seats: dict[str, Hold]) -> None:
        """Write `,"seats":{...}`, rewriting only the seats that are new objects (`_rewritten`).

        Their names are players' (checked plain with the board's players).
        """
        names, holds = tuple(seats), tuple(seats.values())
        fragments = _rewritten(
            names, holds, self._seat_names, self._holds, self._seat_fragments, _seat_json
        )
        self._seats, self._seat_names, self._holds = seats, names, holds
        self._seat_fragments = fragments
        self._seats_json = f',"seats":{{{",".join(fragments)}}}'


def _rewritten(
    names: tuple[str, ...],
    values: tuple[T, ...],
    known_names: tuple[str, ...],
    known_values: tuple[T, ...],
    fragments: list[str],
    write: Callable[[str, T], str],
) -> list[str]:
    """The JSON fragment of each (name, value), `fragments` being those of the known ones.

    With the same names, only the values that are new objects are rewritten (in place),
    found by identity in C (`map(is_not, ...)`) rather than a Python loop: the rules copy
    only the players and seats an action changed. Other names are all written anew.
    """
    if names != known_names:
        return list(map(write, names, values))
    for i in compress(range(len(values)), map(is_not, values, known_values)):
        fragments[i] = write(names[i], values[i])
    return fragments


def decode_state(raw: bytes | str) -> GameState:
    """A state written by `encode_state` (raises pydantic's ValidationError otherwise)."""
    return GameState.model_validate_json(raw)


_JSON = {True: "true", False: "false", None: "null"}


def _string_or_null(word: str | None) -> str:
    """A string known to need no escaping (a literal of the models), or null."""
    return "null" if word is None else f'"{word}"'


# `,"status":...,"winner":...` for every status and winner a state can hold
_ENDING = {
    (status, winner): f',"status":"{status}","winner":{_string_or_null(winner)}'
    for status in get_args(Status)
    for winner in (None, *get_args(Winner))
}


def _plain(text: str) -> bool:
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _outcome_tail(type_: str, direction: str | None, accepted: bool, reason: str | None) -> str:
    """`last`'s JSON after its player: the fields that take few values."""
    return (
        f',"type":"{type_}","direction":{_string_or_null(direction)},'
        f'"accepted":{_JSON[accepted]},"reason":{_string_or_null(reason)}}}'
    )


# `last`'s JSON after its player, by (type, direction, accepted, reason): all the rules make
_TAILS = {
    (type_, direction, reason is None, reason): _outcome_tail(
        type_, direction, reason is None, reason
    )
    for type_ in get_args(ActionType)
    for direction in (None, *get_args(Direction))
    for reason in (None, *get_args(RejectReason))
}


# `last`'s JSON after its action id, by (player, type, ...): the outcomes of the default
# layout's players, one lookup rather than checking the name and joining it to its tail
_OUTCOMES = {
    (player, *key): f',"player":"{player}"{tail}'
    for player in PLAYERS
    for key, tail in _TAILS.items()
}


def _int_or_null(number: int | None) -> str:
    return "null" if number is None else str(number)


def _seat_json(name: str, hold: Hold) -> str:
    """One taken seat's JSON; the holder is a digest in hex, which needs no escaping."""
    return f'"{name}":{{"holder":"{hold.holder}","last":{hold.last}}}'


# 10 players x 78 open cells x 6 grenade counts x alive or not: a whole server's players
@lru_cache(maxsize=16384)
def _player_json(name: str, p: Piece) -> str:
    return (
        f'"{name}":{{"team":"{p.team}","x":{p.x},"y":{p.y},'
        f'"grenades":{p.grenades},"alive":{_JSON[p.alive]}}}'
    )


def _reason(err: ValidationError) -> DeadLetterReason:
    kinds = {e["type"] for e in err.errors()}
    if kinds & {"json_invalid", "json_type", "recursion_loop"}:
        return "not_json"
    if "union_tag_invalid" in kinds:
        return "unknown_type"
    return "invalid_action"


def _summary(err: ValidationError) -> str:
    parts = []
    for e in err.errors(include_url=False, include_input=False)[:3]:
        where = ".".join(str(p) for p in e["loc"]) or "message"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)[:300]
