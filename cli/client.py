"""`moba client`: play one player of one game in the terminal, or watch a game; `n` plays on.

`run_client` is the terminal client's loop for every command that shows a game
(`client`, `play`, `demo`): one game after another while the player presses `n`
after GAME OVER, with the same session, so the rematch keeps the player's team.
"""

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Annotated

import typer

from domain.board import PLAYERS
from domain.models import MAX_GAME_ID

if TYPE_CHECKING:
    from client.view import View
    from domain.models import GameState
    from infra.settings import Settings

# what to run beside each game (the demo's bots), given the game's id
Beside = Callable[[int], AbstractContextManager[object]]


def client(
    game: Annotated[int, typer.Option(help="Game id.", min=0, max=MAX_GAME_ID)],
    player: Annotated[
        str | None,
        typer.Option(help="Your player: A1..A5 or B1..B5. Without it you watch the game."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="MOBA_TOKEN",
            help="Join token, sent with every action (closed games); best from MOBA_TOKEN, "
            "which `ps` does not show.",
        ),
    ] = None,
) -> None:
    """Play PLAYER in game GAME until you press q; without --player, watch it."""
    from cli.logs import to_file
    from infra.settings import Settings

    if player is not None and player not in PLAYERS:
        typer.echo(f"no player {player!r}: choose one of {', '.join(PLAYERS)}", err=True)
        raise typer.Exit(2)
    settings = Settings()
    log_path = settings.data_dir / "logs" / f"client-{game}-{player or 'watch'}.log"
    with to_file(log_path, capture_stderr=True):
        view = run_client(settings, game, player, token)
    say_how_it_ended(view)


def run_client(
    settings: "Settings",
    game: int,
    player: str | None,
    token: str | None = None,
    session: str | None = None,
    beside: Beside | None = None,
) -> "View":
    """Show `game` (play `player`, or watch), then each rematch the player picks; the last View."""
    from client.app import new_session, play
    from client.transport import KafkaTransport

    session = session or new_session()
    while True:
        with (
            beside(game) if beside is not None else contextlib.nullcontext(),
            KafkaTransport(settings, [game]) as transport,
        ):
            known = stored_state(settings, game)
            view = asyncio.run(
                play(transport, game, player, token=token, session=session, known=known)
            )
        if view.next_game is None:
            return view
        if player is not None and token is not None:
            token = issued_token(settings, view.next_game, player)
            if token is None:
                return view
        game = view.next_game


def stored_state(settings: "Settings", game: int) -> "GameState | None":
    """The game's state in the query store (the dataflow's, or the archive's), if it has one."""
    from api.store import GameStore, NoStore, NotARecoveryStore, UnknownGame

    try:
        with GameStore.of(settings) as store:
            return store.game(game).state
    except (NoStore, NotARecoveryStore, UnknownGame):
        return None  # the log's states will do


def issued_token(settings: "Settings", game: int, player: str) -> str | None:
    """The join token of `player` in `game`, when this machine holds the server's secret."""
    from cli.tokens import issue_tokens

    tokens = issue_tokens(settings, game)
    return None if tokens is None else tokens[player]


def say_how_it_ended(view: "View") -> None:
    """One line after the screen is gone: the result, or how to join a rematch by hand."""
    from client.view import seat_of_another, winner_words

    state = view.state
    if view.next_game is not None:  # a closed game's rematch, and no secret here to issue its token
        typer.echo(
            f"The rematch is game {view.next_game}, a closed game: ask for {view.player}'s token "
            f"(moba games new --id {view.next_game}), then "
            f"moba client --game {view.next_game} --player {view.player} --token <token>"
        )
    elif state is not None and state.status != "running":
        typer.echo(f"Game {state.game_id} is over: {winner_words(state)}.")
    elif view.player is not None and seat_of_another(view):
        typer.echo(
            f"Seat {view.player} of game {view.game_id} is another player's: moba play finds a free one."
        )
    elif view.player is not None:
        typer.echo(f"You left seat {view.player} of game {view.game_id}: it is free for another.")
