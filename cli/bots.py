"""`moba bots`: scripted players for one game or many; also a load generator."""

import signal
import threading
from typing import Annotated

import typer

from domain.board import PLAYERS


def parse_games(text: str) -> list[int]:
    """`2`, `1-100` or `1-3,7`: the game ids named."""
    games: list[int] = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        games += range(int(low), int(high or low) + 1)
    return sorted(set(games))


def parse_players(text: str | None) -> list[str]:
    """`A1,B3` or nothing for all ten players."""
    if not text:
        return list(PLAYERS)
    return [p.strip() for p in text.split(",") if p.strip()]


def bots(
    game: Annotated[str, typer.Option("--game", "--games", help="Game id(s): 2, 1-100 or 1-3,7.")],
    players: Annotated[
        str | None, typer.Option(help="Comma-separated players, e.g. A1,B3 (default: all ten).")
    ] = None,
    rate: Annotated[
        float, typer.Option(help="Intents per second, all bots together.", min=0.1)
    ] = 5.0,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: when games end).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the bots' choices.")] = 0,
) -> None:
    """Play the given players of the given games until they end, the duration passes, or Ctrl-C."""
    from cli.logs import to_file
    from cli.tokens import tokens_for
    from client.bots import Seat, Tally, run_bots
    from client.transport import KafkaTransport
    from infra.settings import Settings

    settings = Settings()
    game_ids = parse_games(game)
    seats: list[Seat] = [(g, p) for g in game_ids for p in parse_players(players)]
    stop = threading.Event()

    def report(tally: Tally, elapsed_s: float) -> None:
        typer.echo(tally.line(elapsed_s))

    log_path = settings.data_dir / "logs" / "bots.log"
    typer.echo(f"{len(seats)} bots in {len(game_ids)} game(s) at {rate}/s; Ctrl-C stops them")
    # stop between two intents and report, rather than die mid-send
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with (
            to_file(log_path, capture_stderr=False),
            KafkaTransport(settings, game_ids, history=0) as t,
        ):
            tally = run_bots(
                t,
                seats,
                rate=rate,
                stop=stop,
                seed=seed,
                duration_s=duration,
                tokens=tokens_for(settings, seats),  # as `moba games new` issues them
                report=report,
            )
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    typer.echo(f"done: {tally.line()}")
