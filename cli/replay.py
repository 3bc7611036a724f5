"""`moba games replay`, `moba games audit` and `moba games show --at`: games rebuilt from the `actions` log.

Each reads game g's partition of `actions` from offset 0 and folds its actions with the
domain's rules, as the dataflow did (docs/replay.md). Exit codes: 0 ok, 1 unknown game
or (audit) a mismatch, 2 bad arguments, 3 the broker or topic cannot be read, 4 the
log was trimmed. Imports are deferred into the commands so `moba` starts fast.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from domain.models import MAX_GAME_ID

if TYPE_CHECKING:
    from domain.models import GameState
    from infra.replay import Replay
    from infra.settings import Settings

T = TypeVar("T")
UNKNOWN, BAD_ARGUMENT, UNREADABLE, TRIMMED = 1, 2, 3, 4

GameId = Annotated[int, typer.Argument(min=0, max=MAX_GAME_ID, help="The game's id.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def replay(
    game_id: GameId,
    speed: Annotated[
        float,
        typer.Option(
            min=0.01,
            max=1000,
            help="Times faster than it was played (a pause counts as 0.1 s to 2 s at x1).",
        ),
    ] = 1.0,
) -> None:
    """Play a game back move by move from the actions log: space pauses, arrows step, q quits."""
    import sys

    rebuilt = _replayed(game_id)
    if not sys.stdout.isatty():
        _print_moves(rebuilt)
        return
    import asyncio

    from client.replay import Cursor, watch_replay

    asyncio.run(watch_replay(Cursor(rebuilt, speed)))


def audit(game_id: GameId, json: Json = False) -> None:
    """Check that the states on `games` equal, byte for byte, the replay of the actions log."""
    from infra.audit import audit as audited

    settings = _settings()
    report, rebuilt = _or_exit(lambda: audited(settings, game_id))
    mismatch = report.mismatch
    if json:
        import json as json_

        body = {
            "game_id": game_id,
            "ok": report.ok,
            "replayed": report.replayed,
            "recorded": report.recorded,
            "duplicates": report.duplicates,
            "not_on_games_before": report.missing_first,
            "not_on_games_yet": report.missing_last,
            "mismatch": None
            if mismatch is None
            else {
                "version": mismatch.version,
                "why": mismatch.why,
                "differences": mismatch.differences(),
            },
            "read_s": round(rebuilt.read_s, 3),
            "fold_s": round(rebuilt.fold_s, 3),
        }
        typer.echo(json_.dumps(body))
    else:
        typer.echo(report.summary())
        if mismatch is not None:
            for line in mismatch.differences()[:20]:
                typer.echo(f"  {line}")
    if mismatch is not None:
        raise typer.Exit(1)


def state_at(game_id: int, version: int) -> "tuple[GameState, str]":
    """`moba games show G --at V`: the state at version V folded from the log, and where it stands."""
    from infra.replay import NoSuchVersion

    rebuilt = _replayed(game_id)
    try:
        state = rebuilt.state(version)
    except NoSuchVersion as err:
        typer.echo(f"{err}.", err=True)
        raise typer.Exit(BAD_ARGUMENT) from None
    return state, f"version {version} of {rebuilt.latest} in the actions log: {_move_words(state)}"


def _replayed(game_id: int) -> "Replay":
    from infra.replay import replay as replayed

    settings = _settings()
    return _or_exit(lambda: replayed(settings, game_id))


def _or_exit(read: Callable[[], T]) -> T:
    """`read()`, or its failure as a message and the exit code for it."""
    from infra.history import LogTrimmed, LogUnavailable
    from infra.replay import NotInLog, ReplayFailed

    try:
        return read()
    except NotInLog as err:
        typer.echo(f"{err}.", err=True)
        raise typer.Exit(UNKNOWN) from None
    except ReplayFailed as err:
        typer.echo(f"Cannot replay: {err}.", err=True)
        raise typer.Exit(UNKNOWN) from None
    except LogTrimmed as err:
        typer.echo(f"Cannot replay: {err}.", err=True)
        raise typer.Exit(TRIMMED) from None
    except LogUnavailable as err:
        typer.echo(f"Cannot read the log: {err}.", err=True)
        raise typer.Exit(UNREADABLE) from None


def _settings() -> "Settings":
    from infra.settings import Settings

    return Settings()


def _print_moves(rebuilt: "Replay") -> None:
    """The replay as lines, for a pipe: one per version, then the final board."""
    from domain.render import render_board

    typer.echo(f"{'VERSION':>7}  {'OFFSET':>8}  MOVE")
    for step in rebuilt.steps:
        typer.echo(f"{step.version:>7}  {step.offset:>8}  {_move_words(step.state)}")
    typer.echo(render_board(rebuilt.state(rebuilt.latest)))


def _move_words(state: "GameState") -> str:
    from client.replay import last_words

    return last_words(state)
