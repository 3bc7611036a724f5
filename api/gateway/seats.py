"""Who a socket speaks for, and what its frames mean: the gateway's parsing, with its refusals.

The seat comes from the URL (game, player, token, session) and is checked once, when
the socket opens; each frame is then parsed by the domain's own action model with the
seat's fields added, exactly as the dataflow parses actions, and the dataflow checks
the token and the session's hold on the seat again. Every refusal carries a WebSocket
close code and a reason naming the problem.
"""

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from domain.auth import is_authentic
from domain.board import PLAYERS
from domain.models import MAX_GAME_ID, Action, Join, Leave
from domain.seats import holder_of
from domain.wire import InvalidMessage, decode_action

MALFORMED = 4400
UNAUTHORIZED = 4401
NO_SEAT = 4404
SEAT_FIELDS = ("game_id", "player", "token", "session")
SESSION = re.compile(r"[A-Za-z0-9_-]{8,64}")  # what a page's session may be: URL-safe, no escaping
REASON_BYTES = 123  # the most a WebSocket close frame's reason may hold
SECRET_IN_QUERY = re.compile(r"(\b(?:token|session)=)[^&\s\"]*")


class Refusal(Exception):
    """Close the socket with `code` and `reason`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason.encode()[:REASON_BYTES].decode(errors="ignore")


def game_of(path_id: str) -> int:
    """The game id in the URL, or a 4404 refusal."""
    if not (path_id.isascii() and path_id.isdigit()) or int(path_id) > MAX_GAME_ID:
        raise Refusal(NO_SEAT, f"no game {path_id[:20]!r}: ids are integers 0 to {MAX_GAME_ID}")
    return int(path_id)


@dataclass(frozen=True)
class Seat:
    """A player's place in a game, as the URL gives it and the gateway checked it."""

    game_id: int
    player: str
    token: str | None
    session: str | None = None

    @classmethod
    def check(
        cls,
        game_id: int,
        player: str | None,
        token: str | None,
        secret: bytes | None,
        session: str | None = None,
    ) -> "Seat":
        """The seat, or a refusal: 4404 for a player not on the board, 4401 for a bad token,
        4400 for a session that is not 8 to 64 letters, digits, `-` or `_`."""
        if player is None or player not in PLAYERS:
            named = "no player given" if player is None else f"no player {player[:16]!r}"
            raise Refusal(NO_SEAT, f"{named} in game {game_id}: choose one of {', '.join(PLAYERS)}")
        if session is not None and not SESSION.fullmatch(session):
            raise Refusal(MALFORMED, "malformed session: 8 to 64 letters, digits, - or _")
        seat = cls(game_id, player, token, session)
        if secret is not None:
            if not token:
                raise Refusal(UNAUTHORIZED, f"missing token for {player} in game {game_id}")
            if len(token) > 128 or not is_authentic(secret, seat.join()):
                raise Refusal(UNAUTHORIZED, f"wrong token for {player} in game {game_id}")
        return seat

    def join(self) -> Join:
        return Join(**self._fields())

    def may_hold(self, state: str | None) -> bool:
        """Whether this seat's session may hold its seat in a running game, by the state's JSON.

        True when the game runs and the seat is free or held by this session: a join
        still on its way may be granted after the socket closed, so its seat is left
        after the grace. A `leave` for a seat the session does not hold frees nobody's:
        the dataflow rejects it as `seat_taken`, or finds the seat free. False when
        another session holds the seat or the game is over, or for a seat without a
        session; True when no state was seen (then only the dataflow knows).
        """
        if state is None or self.session is None:
            return state is None
        fields = json.loads(state)
        if fields.get("status") != "running":
            return False
        seat = (fields.get("seats") or {}).get(self.player)
        return seat is None or seat.get("holder") == holder_of(self.session)

    def leave(self) -> Leave:
        """The `leave` the gateway sends for this seat when its page is gone for good."""
        return Leave(**self._fields(), action_id="gateway-leave")

    def _fields(self) -> dict[str, Any]:
        return {
            "game_id": self.game_id,
            "player": self.player,
            "token": self.token,
            "session": self.session,
        }

    def action(self, frame: str, max_bytes: int) -> Action:
        """The intent in a text frame, as this seat's action; a 4400 refusal if it is not one."""
        if len(frame) > max_bytes:
            raise Refusal(MALFORMED, f"malformed frame: {len(frame)} characters > {max_bytes}")
        try:
            fields = json.loads(frame)
        except (ValueError, RecursionError):
            raise Refusal(MALFORMED, "malformed frame: not JSON") from None
        if not isinstance(fields, dict):
            raise Refusal(MALFORMED, "malformed frame: not a JSON object")
        given = [name for name in SEAT_FIELDS if name in fields]
        if given:
            raise Refusal(
                MALFORMED,
                f"malformed frame: {', '.join(given)} come from the URL, not the frame",
            )
        raw = json.dumps({**fields, **self._fields()}).encode()
        try:
            return decode_action(raw, max_bytes=max_bytes + 512)  # room for the seat's fields
        except InvalidMessage as err:
            raise Refusal(MALFORMED, f"malformed frame: {err.detail}") from None


class RedactTokens(logging.Filter):
    """Keeps join tokens and sessions out of the server's logs: uvicorn logs each socket's query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                SECRET_IN_QUERY.sub(r"\1…", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def redact_tokens_in_server_logs() -> None:
    """Install `RedactTokens` on uvicorn's loggers (once, after uvicorn has configured them)."""
    for name in ("uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
