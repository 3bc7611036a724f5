"""The rematch of a game: the id its finished state names, the same for every replay.

Ids from 2^52 up are rematches: `rematch_id(g)` is 2^52 plus 52 bits of SHA-256 of
`rematch:<g>`, a pure function of the finished game's id, so every reader of the log
(the server, a replay, each player's client) finds the same game. `moba games new`
picks ids below 2^52, so a rematch never lands on a game someone created; two
rematches share an id only if 52 bits of SHA-256 collide.
"""

import hashlib
from collections.abc import Iterable

REMATCH_BASE = 2**52


def rematch_id(game_id: int) -> int:
    """The game the players of finished game `game_id` play next."""
    digest = hashlib.sha256(f"rematch:{game_id}".encode()).digest()
    return REMATCH_BASE + int.from_bytes(digest[:7], "big") % REMATCH_BASE


def is_rematch(game_id: int) -> bool:
    """Whether `game_id` is in the range only rematches use."""
    return game_id >= REMATCH_BASE


def fresh_game_id(known: Iterable[int]) -> int:
    """A new game's id: one more than the largest known id below the rematches' range, or 1.

    A new game never reuses an id it can see, and never lands among rematch ids.
    """
    return max((g for g in known if g < REMATCH_BASE), default=0) + 1
