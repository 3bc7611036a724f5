"""`moba games list` and `moba games show`: the games as the recovery store holds them.

Imports are deferred into the commands so `moba games show` starts fast.
"""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:
    from api.store import GameSnapshot, GameStore

T = TypeVar("T")
STORE_UNAVAILABLE = 3  # exit code when there is no usable recovery store (1: unknown game)

app = typer.Typer(help="Query games in the dataflow's recovery store.", no_args_is_help=True)

DataDir = Annotated[
    Path | None,
    typer.Option(help="Data directory holding `recovery/` [default: MOBA_DATA_DIR or .moba]"),
]


@app.command("list")
def list_games(data_dir: DataDir = None) -> None:
    """Every game: id, status, winner, version, live players per team, snapshot age."""
    with _store(data_dir) as store:
        snapshots = _read(store.games)
    if not snapshots:
        typer.echo("No games in the recovery store yet.")
        return
    typer.echo(
        f"{'GAME':>6}  {'STATUS':<8}  {'WINNER':<6}  {'VERSION':>7}  {'A':>2}  {'B':>2}  AGE"
    )
    for snap in snapshots:
        s = snap.state
        typer.echo(
            f"{s.game_id:>6}  {s.status:<8}  {s.winner or '-':<6}  {s.version:>7}  "
            f"{s.live_players('A'):>2}  {s.live_players('B'):>2}  {_age(snap)}"
        )


@app.command()
def show(
    game_id: Annotated[int, typer.Argument(min=0, help="The game's id.")],
    json: Annotated[
        bool, typer.Option("--json", help="Print the state in the wire format.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """One game's board and players, as recovery would restore it."""
    from api.store import UnknownGame

    with _store(data_dir) as store:
        try:
            snap = _read(lambda: store.game(game_id))
        except UnknownGame as err:
            typer.echo(f"{err}.", err=True)
            raise typer.Exit(1) from None
    if json:
        from domain.wire import encode_state

        typer.echo(encode_state(snap.state).decode())
        return
    from domain.render import render_board

    typer.echo(render_board(snap.state))
    typer.echo(_status_line(snap))
    typer.echo(f"\n{'PLAYER':<8}  TEAM  {'X':>2}  {'Y':>2}  GRENADES  ALIVE")
    for name, p in sorted(snap.state.players.items()):
        typer.echo(
            f"{name:<8}  {p.team:<4}  {p.x:>2}  {p.y:>2}  {p.grenades:>8}  "
            f"{'yes' if p.alive else 'no'}"
        )


def _store(data_dir: Path | None) -> "GameStore":
    """The opened store, or a clear message and exit code 3."""
    from api.store import GameStore, NoStore, NotARecoveryStore

    if data_dir is None:
        from infra.settings import Settings

        data_dir = Settings().data_dir
    store = GameStore(data_dir / "recovery")
    try:
        store.open()
    except (NoStore, NotARecoveryStore) as err:
        typer.echo(f"Cannot read games: {err}", err=True)
        raise typer.Exit(STORE_UNAVAILABLE) from None
    return store


def _read(query: Callable[[], T]) -> T:
    from api.store import NoStore, NotARecoveryStore

    try:
        return query()
    except (NoStore, NotARecoveryStore) as err:
        typer.echo(f"Cannot read games: {err}", err=True)
        raise typer.Exit(STORE_UNAVAILABLE) from None


def _status_line(snap: "GameSnapshot") -> str:
    s = snap.state
    result = (
        f"winner {s.winner}"
        if s.winner
        else f"{s.live_players('A')} A vs {s.live_players('B')} B alive"
    )
    return (
        f"{s.status}, {result}, version {s.version}; "
        f"snapshot of epoch {snap.epoch} (resume epoch {snap.resume_epoch}), {_age(snap)} old"
    )


def _age(snap: "GameSnapshot") -> str:
    return f"{snap.age_s():.0f}s"
