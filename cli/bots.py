"""`moba bots`: scripted players for one game or many; also a load generator."""

import json
import signal
import threading
from typing import Annotated

import typer

from domain.board import PLAYERS
from domain.models import MAX_GAME_ID

MAX_GAMES = 100_000  # more is no load test this process can drive; a typo like 1-1000000000


class GameIds(tuple[int, ...]):
    """The game ids `--game` names, sorted, each once."""


class Players(tuple[str, ...]):
    """The players `--players` names, in the order given, each once."""


def parse_games(text: str) -> GameIds:
    """`2`, `1-100` or `1-3,7`: the game ids named; anything else is a usage error."""
    games: set[int] = set()
    for part in text.split(","):
        low, dash, high = (word.strip() for word in part.partition("-"))
        if not low or (dash and not high):
            raise typer.BadParameter(f"{part.strip()!r} is not a game id or a range like 1-100")
        first, last = _game_id(low), _game_id(high) if dash else _game_id(low)
        if last < first:
            raise typer.BadParameter(f"the range {first}-{last} is empty (write {last}-{first})")
        if last - first + len(games) >= MAX_GAMES:
            raise typer.BadParameter(f"more than {MAX_GAMES:,} games")
        games.update(range(first, last + 1))
    return GameIds(sorted(games))


def _game_id(word: str) -> int:
    if not word.isdigit() or int(word) > MAX_GAME_ID:
        raise typer.BadParameter(f"{word!r} is not a game id (0 to {MAX_GAME_ID})")
    return int(word)


def parse_players(text: str | None) -> Players:
    """`A1,B3` or nothing for all ten players; an unknown player is a usage error."""
    if not text:
        return Players(PLAYERS)
    named = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in named if p not in PLAYERS]
    if unknown or not named:
        raise typer.BadParameter(
            f"no player {', '.join(unknown) or text!r}: choose from {', '.join(PLAYERS)}"
        )
    return Players(dict.fromkeys(named))


def bots(
    game: Annotated[
        GameIds,
        typer.Option(
            "--game",
            "--games",
            parser=parse_games,
            metavar="IDS",
            help="Game id(s): 2, 1-100 or 1-3,7.",
        ),
    ],
    players: Annotated[
        Players | None,
        typer.Option(
            parser=parse_players,
            metavar="NAMES",
            show_default=False,
            help="Comma-separated players, e.g. A1,B3 (default: all ten).",
        ),
    ] = None,
    rate: Annotated[
        float, typer.Option(help="Intents per second, all bots together.", min=0.1)
    ] = 5.0,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: when games end).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the bots' choices.")] = 0,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the final figures as one JSON object (progress goes to stderr)."
        ),
    ] = False,
) -> None:
    """Play the given players of the given games until they end, the duration passes, or Ctrl-C."""
    from cli.logs import to_file
    from cli.tokens import tokens_for
    from client.bots import Seat, Tally, run_bots
    from client.transport import KafkaTransport
    from infra.settings import Settings

    settings = Settings()
    game_ids = list(game)
    seats: list[Seat] = [(g, p) for g in game_ids for p in players or parse_players(None)]
    stop = threading.Event()

    def report(tally: Tally, elapsed_s: float) -> None:
        typer.echo(tally.line(elapsed_s), err=as_json)

    log_path = settings.data_dir / "logs" / "bots.log"
    typer.echo(
        f"{len(seats)} bots in {len(game_ids)} game(s) at {rate}/s; Ctrl-C stops them", err=as_json
    )
    stopped_by: list[int] = []

    def stop_on(signum: int, _frame: object) -> None:
        stopped_by.append(signum)
        stop.set()

    # stop between two intents and report, rather than die mid-send
    previous = {s: signal.signal(s, stop_on) for s in (signal.SIGINT, signal.SIGTERM)}
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
    typer.echo(json.dumps(tally.summary()) if as_json else f"done: {tally.line()}")
    if stopped_by:
        raise typer.Exit(128 + stopped_by[0])  # the shell's convention: 130 after Ctrl-C
