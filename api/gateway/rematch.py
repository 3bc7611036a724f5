"""`POST /games/{game_id}/rematch?player=…&token=…`: where a player of a game plays its rematch, with the token for it.

A rematch is another game, and in closed games (`MOBA_SECRET`) every game's seats need
their own join tokens. Whoever holds a player's token for a game may play that player
in its rematch, so the gateway, which holds the secret, issues that token in exchange
for the first: the page's rematch button then works in closed games as in open ones.
"""

from typing import Annotated

from fastapi import FastAPI, HTTPException, Path, Query
from pydantic import BaseModel, Field

from api.gateway.seats import NO_SEAT, Refusal, Seat
from api.schemas import ErrorBody
from domain.auth import join_token
from domain.models import MAX_GAME_ID
from domain.rematch import rematch_id
from infra.settings import Settings


class RematchSeat(BaseModel):
    """The same player's seat in the rematch: its game and, in closed games, its token."""

    game_id: int
    player: str
    token: str | None = Field(description="Null when games are open (no MOBA_SECRET).")


def add_rematch(app: FastAPI, settings: Settings) -> None:
    """Mount `POST /games/{game_id}/rematch`."""

    @app.post(
        "/games/{game_id}/rematch",
        responses={
            403: {"model": ErrorBody, "description": "Wrong or missing token"},
            404: {"model": ErrorBody, "description": "No such player"},
            422: {"model": ErrorBody, "description": "Invalid game id or player."},
        },
    )
    def rematch(
        game_id: Annotated[int, Path(ge=0, le=MAX_GAME_ID)],
        player: Annotated[str, Query(max_length=16, description="A player of the game.")],
        token: Annotated[
            str | None, Query(max_length=128, description="Its join token (closed games).")
        ] = None,
    ) -> RematchSeat:
        """The rematch of game `game_id` for `player`, who proves the seat with its token.

        The token is a query parameter, as on the play socket (the gateway keeps it out
        of its logs): serve the API over TLS wherever tokens matter.
        """
        secret = settings.secret_key
        try:
            Seat.check(game_id, player, token, secret)
        except Refusal as refusal:
            raise HTTPException(404 if refusal.code == NO_SEAT else 403, refusal.reason) from None
        game = rematch_id(game_id)
        issued = None if secret is None else join_token(secret, game, player)
        return RematchSeat(game_id=game, player=player, token=issued)
