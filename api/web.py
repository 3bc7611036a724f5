"""The web page: its files at `/` and `/static/`, its words at `/phrases`, the seats at `/seats`.

The page is plain HTML, CSS and JavaScript modules with no build step; it renders what
the states say and decides nothing. Its words come from `domain.phrases`, the table the
terminal client uses, so a rejection reads the same in a browser and in a terminal.
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from domain.board import PLAYERS
from domain.phrases import ACCEPTED, REJECTED, REJECTIONS
from domain.rules import new_game

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


def add_web_page(app: FastAPI) -> None:
    """Serve the page at `/`, its assets at `/static/`, its words and the seats."""

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

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
