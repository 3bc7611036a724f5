"""`moba client`: play one player of one game in the terminal, or watch a game."""

import asyncio
from typing import Annotated

import typer

from domain.board import PLAYERS


def client(
    game: Annotated[int, typer.Option(help="Game id.", min=0, max=2**53 - 1)],
    player: Annotated[
        str | None,
        typer.Option(help="Your player: A1..A5 or B1..B5. Without it you watch the game."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(help="Join token, sent with every action (for closed games)."),
    ] = None,
) -> None:
    """Play PLAYER in game GAME until you press q; without --player, watch it."""
    from cli.logs import to_file
    from client.app import play
    from client.transport import KafkaTransport
    from client.view import winner_words
    from infra.settings import Settings

    if player is not None and player not in PLAYERS:
        typer.echo(f"no player {player!r}: choose one of {', '.join(PLAYERS)}", err=True)
        raise typer.Exit(2)
    settings = Settings()
    log_path = settings.data_dir / "logs" / f"client-{game}-{player or 'watch'}.log"
    with to_file(log_path, capture_stderr=True), KafkaTransport(settings, [game]) as transport:
        view = asyncio.run(play(transport, game, player, token=token))
    if view.state is not None and view.state.status == "finished":
        typer.echo(f"Game {game} is over: {winner_words(view.state)}.")
