"""The wire format (JSON, UTF-8) shared by the client, the dataflow, the CLI and the API.

Decoding never raises anything but `InvalidMessage`, whose `reason` is a short
machine-readable word that the dataflow puts on the dead-letter topic.
"""

from functools import lru_cache
from typing import Literal

from pydantic import TypeAdapter, ValidationError

from domain.models import Action, GameState, Player

DeadLetterReason = Literal["oversized", "not_json", "unknown_type", "invalid_action"]

_ACTION = TypeAdapter[Action](Action)


class InvalidMessage(ValueError):
    """A message that is not a valid action; `reason` says which kind, `detail` says where."""

    def __init__(self, reason: DeadLetterReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: DeadLetterReason = reason
        self.detail = detail


def decode_action(raw: bytes | None, max_bytes: int = 4096) -> Action:
    """The action in `raw`, or `InvalidMessage` saying why it is not one."""
    if raw is None:
        raise InvalidMessage("not_json", "empty message (null value)")
    if len(raw) > max_bytes:
        raise InvalidMessage("oversized", f"{len(raw)} bytes > {max_bytes}")
    try:
        return _ACTION.validate_json(raw)
    except ValidationError as err:
        raise InvalidMessage(_reason(err), _summary(err)) from None
    except (ValueError, RecursionError) as err:  # e.g. undecodable UTF-8 inside the parser
        raise InvalidMessage("not_json", str(err)[:200]) from None


def encode_action(action: Action) -> bytes:
    """`action` as wire JSON, without fields left at their defaults that mean nothing (no token)."""
    return action.model_dump_json(exclude_none=True).encode()


def encode_state(state: GameState) -> bytes:
    """`state` as wire JSON: exactly the bytes of `state.model_dump_json()`, about 4x faster.

    The dataflow encodes every state it emits, so this writes the JSON itself when every
    free-text string (player names, action id) is plain printable ASCII without quotes
    or backslashes, which needs no escaping; anything else goes through pydantic.
    Tests check both paths against `model_dump_json`.
    """
    return StateEncoder().encode(state)


class StateEncoder:
    """Encodes the successive states of one game: `encode_state`'s bytes, without rewriting players.

    The rules copy only the players an action changed and keep the others (the same
    objects, or the very same `players` dict when an action is rejected), so the encoder
    remembers the JSON of the players it wrote last and rewrites only new ones. Its
    output depends on the state alone; what it remembers only saves work. The dataflow
    keeps one per game.
    """

    __slots__ = ("_fragments", "_joined", "_players", "_walls", "_walls_json")

    def __init__(self) -> None:
        self._players: dict[str, Player] = {}
        self._fragments: dict[str, str] = {}
        self._joined = ""
        self._walls: tuple[tuple[int, int], ...] = ()
        self._walls_json = ""

    def encode(self, state: GameState) -> bytes:
        fast = self._fast_json(state)
        return fast.encode() if fast is not None else state.model_dump_json().encode()

    def _fast_json(self, s: GameState) -> str | None:
        """The wire JSON of `s` in pydantic's field order, or None if a string would need escaping."""
        players = self._players_json(s.players)
        if players is None:
            return None
        last = s.last
        if last is None:
            last_json = "null"
        elif _plain(last.action_id) and _plain(last.player):
            direction = "null" if last.direction is None else f'"{last.direction}"'
            reason = "null" if last.reason is None else f'"{last.reason}"'
            last_json = (
                f'{{"action_id":"{last.action_id}","player":"{last.player}","type":"{last.type}",'
                f'"direction":{direction},"accepted":{_JSON[last.accepted]},"reason":{reason}}}'
            )
        else:
            return None
        if s.walls is not self._walls:
            self._walls, self._walls_json = s.walls, _walls_json(s.walls)
        winner = "null" if s.winner is None else f'"{s.winner}"'
        return (
            f'{{"game_id":{s.game_id},"version":{s.version},"status":"{s.status}",'
            f'"winner":{winner},"width":{s.width},"height":{s.height},'
            f'"walls":[{self._walls_json}],"players":{{{players}}},"last":{last_json}}}'
        )

    def _players_json(self, players: dict[str, Player]) -> str | None:
        if players is self._players:  # a rejected action: nobody changed
            return self._joined
        before, known = self._players, self._fragments
        fragments: dict[str, str] = {}
        for name, p in players.items():
            if before.get(name) is p:
                fragments[name] = known[name]
                continue
            entry = _player_json(name, p.team, p.x, p.y, p.grenades, p.alive)
            if entry is None:
                return None
            fragments[name] = entry
        self._players, self._fragments = players, fragments
        self._joined = ",".join(fragments.values())
        return self._joined


def decode_state(raw: bytes | str) -> GameState:
    """A state written by `encode_state` (raises pydantic's ValidationError otherwise)."""
    return GameState.model_validate_json(raw)


_JSON = {True: "true", False: "false", None: "null"}


def _plain(text: str) -> bool:
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


@lru_cache(maxsize=64)
def _walls_json(walls: tuple[tuple[int, int], ...]) -> str:
    return ",".join(f"[{x},{y}]" for x, y in walls)


@lru_cache(maxsize=16384)  # 10 players x 90 cells x 6 grenade counts x alive or not, and some
def _player_json(name: str, team: str, x: int, y: int, grenades: int, alive: bool) -> str | None:
    if not _plain(name):
        return None
    return (
        f'"{name}":{{"team":"{team}","x":{x},"y":{y},"grenades":{grenades},"alive":{_JSON[alive]}}}'
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
