"""Join tokens as the server issues them: the one function `moba games new`, the bots and the demo call.

A token is not stored anywhere: anyone holding MOBA_SECRET can recompute it, and the
dataflow does exactly that to verify one (`domain.auth`).
"""

from collections.abc import Iterable

from domain.auth import seat_tokens
from infra.settings import Settings


def issue_tokens(settings: Settings, game_id: int) -> dict[str, str] | None:
    """Each player's join token for game `game_id`, or None when games are open (no secret)."""
    key = settings.secret_key
    return None if key is None else seat_tokens(key, game_id)


def tokens_for(settings: Settings, seats: Iterable[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """The tokens of `seats` (game, player), as the bots take them; empty when games are open."""
    issued: dict[int, dict[str, str] | None] = {}
    tokens = {}
    for game_id, player in seats:
        if game_id not in issued:
            issued[game_id] = issue_tokens(settings, game_id)
        token = (issued[game_id] or {}).get(player)
        if token is not None:
            tokens[(game_id, player)] = token
    return tokens
