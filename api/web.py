"""The web page: its files at `/` and `/static/`, its words at `/phrases`, the seats at `/seats`,
and the lobby's next free seat at `/lobby/seat`.

The page is plain HTML, CSS and JavaScript modules with no build step; it renders what
the states say and decides nothing. Its words come from `domain.phrases`, the table the
terminal client uses, so a rejection reads the same in a browser and in a terminal.
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from api.lobby import next_seat, seat_in
from api.schemas import ErrorBody
from api.store import NoStore
from domain.board import PLAYERS
from domain.models import MAX_GAME_ID, GameState
from domain.phrases import ACCEPTED, REJECTED, REJECTIONS
from domain.rules import new_game

Games = Callable[[], list[GameState]]  # every game the store knows, ended ones included
TAKEN = re.compile(r"(\d{1,16}):([AB][1-5])")

STATIC = Path(__file__).resolve().parent / "static"


class Phrases(BaseModel):
    """`GET /phrases`: what each outcome of an action reads as."""

    rejections: dict[str, str] = Field(description="Phrase per `last.reason` of a rejected action.")
    rejected: str = Field(description="Phrase for a rejection without a known reason.")
    accepted: dict[str, str] = Field(
        description="Phrase per action type; `{direction}` stands for the action's direction."
    )


class Seat(BaseModel):
    player: str
    team: str


class Seats(BaseModel):
    """`GET /seats`: the players of every game, for a lobby to offer."""

    seats: list[Seat]


class SeatOffer(BaseModel):
    """`GET /lobby/seat`: the seat to claim next (the server decides who gets it)."""

    game_id: int
    player: str
    team: str
    new: bool = Field(description="No open game had a free seat: claiming this one starts a game.")


def add_web_page(app: FastAPI, games: Games) -> None:
    """Serve the page at `/`, its assets at `/static/`, its words, the seats and the lobby's offer."""

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/phrases")
    def phrases() -> Phrases:
        """The words the page shows for the outcome of an action (the terminal client's table)."""
        return Phrases(rejections=dict(REJECTIONS), rejected=REJECTED, accepted=dict(ACCEPTED))

    @app.get("/seats")
    def seats() -> Seats:
        """The seats of a game (every game has the same ones), in the order a lobby shows them."""
        board = new_game(0).players
        return Seats(seats=[Seat(player=p, team=board[p].team) for p in PLAYERS])

    @app.get(
        "/lobby/seat",
        responses={
            404: {"model": ErrorBody, "description": "The game named has no free seat."},
            422: {"model": ErrorBody, "description": "Invalid `game` or `taken`."},
            503: {"model": ErrorBody, "description": "The recovery store cannot be read."},
        },
    )
    async def lobby_seat(
        taken: Annotated[
            list[str],
            Query(
                description="Seats the client has seen taken since, as `game:player` (e.g. `5:A1`).",
                max_length=100,
            ),
        ] = [],  # noqa: B006 (FastAPI copies query defaults)
        game: Annotated[
            int | None, Query(ge=0, le=MAX_GAME_ID, description="Only a seat of this game.")
        ] = None,
    ) -> SeatOffer:
        """The next free seat of an open game, or the first seat of a new game.

        From the recovery store, which may be a moment old: claim it with a `join`, and
        after a `seat_taken` ask again, naming what the answer showed taken. With `game`,
        a seat of that game only (404 when it has none free).
        """
        seen = frozenset(_taken(t) for t in taken)
        try:
            known = await run_in_threadpool(games)
        except NoStore:  # no dataflow has kept a game yet: the first seat of game 1
            known = []
        if game is None:
            return SeatOffer(**next_seat(known, seen)._asdict())
        named = next((s for s in known if s.game_id == game), None) or new_game(game)
        offer = seat_in(named, seen)
        if offer is None:
            raise HTTPException(404, f"game {game} has no free seat: it is full or over")
        return SeatOffer(**offer._asdict())

    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def _taken(text: str) -> tuple[int, str]:
    """`5:A1` as (5, "A1"); anything else is a 422 naming it."""
    found = TAKEN.fullmatch(text)
    if found is None or int(found.group(1)) > MAX_GAME_ID:
        raise RequestValidationError(
            [
                {
                    "loc": ["query", "taken"],
                    "msg": f"{text[:40]!r} is not game:player",
                    "type": "value_error",
                }
            ]
        )
    return int(found.group(1)), found.group(2)
