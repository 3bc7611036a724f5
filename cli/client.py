"""`moba client`: play one player of one game in the terminal."""

import asyncio
from typing import Annotated

import typer


def client(
    game: Annotated[int, typer.Option(help="Game id.", min=0)],
    player: Annotated[str, typer.Option(help="Your player: A1..A5 or B1..B5.")],
    token: Annotated[
        str | None,
        typer.Option(help="Join token, sent with every action (for closed games)."),
    ] = None,
) -> None:
    """Play PLAYER in game GAME until you press q."""
    from cli.logs import to_file
    from client.app import play
    from client.transport import KafkaTransport
    from client.view import winner_words
    from infra.settings import Settings

    settings = Settings()
    log_path = settings.data_dir / "logs" / f"client-{game}-{player}.log"
    with to_file(log_path, capture_stderr=True), KafkaTransport(settings, [game]) as transport:
        view = asyncio.run(play(transport, game, player, token=token))
    if view.state is not None and view.state.status == "finished":
        typer.echo(f"Game {game} is over: {winner_words(view.state)}.")
