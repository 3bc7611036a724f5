"""Join tokens: a player may only act as itself, because the server, not the client, decides who is who.

A token is HMAC-SHA256 over the game id and the player name under a server secret.
The functions are pure (the secret is an argument); the secret itself lives in the
settings of the processes that issue and verify tokens, never in a message.
"""

import hashlib
import hmac

from domain.game import Game
from domain.models import Action, GameState
from domain.rules import new_game, next_game, rejected


def join_token(secret: bytes, game_id: int, player: str) -> str:
    """The token that lets `player` act in game `game_id` (hex, 64 characters)."""
    message = f"{game_id}:{player}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def seat_tokens(secret: bytes, game_id: int) -> dict[str, str]:
    """The token of every player of game `game_id`, by player name (what `moba games new` prints)."""
    return {player: join_token(secret, game_id, player) for player in new_game(game_id).players}


def is_authentic(secret: bytes, action: Action) -> bool:
    """Whether `action` carries the token of its own game and player (constant-time comparison)."""
    if action.token is None:
        return False
    expected = join_token(secret, action.game_id, action.player)
    return hmac.compare_digest(expected.encode(), action.token.encode())


def next_authentic_game(
    game: Game, action: Action, secret: bytes | None, now: int | None = None
) -> Game:
    """`next_game`, except that with a secret an action without its player's token is `bad_token`.

    With no secret the game is open: anyone may act as any player whose seat nobody
    holds (domain/seats.py). With one, the token says which player a client may be,
    and the seat says which one client, of those holding that token, is.
    """
    if secret is not None and not is_authentic(secret, action):
        return rejected(game, action, "bad_token", now)
    return next_game(game, action, now)


def next_authentic_state(state: GameState, action: Action, secret: bytes | None) -> GameState:
    """`next_authentic_game` on the models."""
    return next_authentic_game(Game.of(state), action, secret).state()
