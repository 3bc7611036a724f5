"""`moba games list` and `moba games show`: the games as the recovery store holds them; `new`.

`moba games new` issues a game's join tokens. In this event-sourced backend a game has
no creation event: it exists from its first action (a `join`), so "new" means picking
an id no game in the recovery store has and handing each player the token that lets
it, and only it, act in that game. Nothing is written; see docs/security.md.

Imports are deferred into the commands so `moba games show` starts fast.
"""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from cli.listing import AsJson, print_listing
from domain.models import MAX_GAME_ID

if TYPE_CHECKING:
    from api.store import GameSnapshot, GameStore
    from domain.models import GameState
    from infra.settings import Settings

T = TypeVar("T")
STORE_UNAVAILABLE = 3  # exit code when there is no usable recovery store (1: unknown game)

app = typer.Typer(help="Query games in the dataflow's recovery store.", no_args_is_help=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        envvar="MOBA_DATA_DIR",
        show_default=".moba",
        help="Data directory holding `recovery/`.",
    ),
]


@app.command("list")
def list_games(
    data_dir: DataDir = None,
    all_games: Annotated[
        bool,
        typer.Option("--all", help="Also the ended games the dataflow has archived."),
    ] = False,
    as_json: AsJson = False,
) -> None:
    """The games the dataflow holds (--all: and the archived ones): id, status, winner, version, live players, age."""
    with _store(data_dir) as store:
        snapshots = _read(lambda: store.games(archived=all_games))
    rows = [
        {
            "game_id": snap.state.game_id,
            "status": snap.state.status,
            "winner": snap.state.winner,
            "version": snap.state.version,
            "alive_a": snap.state.live_players("A"),
            "alive_b": snap.state.live_players("B"),
            "age_s": round(snap.age_s(), 3),
            "archived": snap.archived,
        }
        for snap in snapshots
    ]
    columns = {"game_id": "GAME", "status": "STATUS", "winner": "WINNER", "version": "VERSION"}
    columns |= {"alive_a": "A", "alive_b": "B", "age_s": "AGE"}
    age = {"age_s": lambda r: f"{r['age_s']:.0f}s" + (" (archived)" if r["archived"] else "")}
    empty = "No games in the recovery store yet."
    print_listing(rows, columns, as_json=as_json, empty=empty, cells=age)


@app.command()
def show(
    game_id: Annotated[int, typer.Argument(min=0, max=MAX_GAME_ID, help="The game's id.")],
    json: Annotated[
        bool, typer.Option("--json", help="Print the state in the wire format.")
    ] = False,
    data_dir: DataDir = None,
    at: Annotated[
        int | None,
        typer.Option(
            "--at", min=0, help="The state at this version, replayed from the actions log."
        ),
    ] = None,
) -> None:
    """One game's board and players, as recovery would restore it (--at: as the log replays it)."""
    if at is not None:
        from cli.replay import state_at

        state, status = state_at(game_id, at)
    else:
        snap = _snapshot(data_dir, game_id)
        state, status = snap.state, _status_line(snap)
    if json:
        from domain.wire import encode_state

        typer.echo(encode_state(state).decode())
        return
    from domain.render import render_board

    typer.echo(render_board(state))
    typer.echo(status)
    typer.echo(f"\n{'PLAYER':<8}  TEAM  {'X':>2}  {'Y':>2}  GRENADES  ALIVE")
    for name, p in sorted(state.players.items()):
        typer.echo(
            f"{name:<8}  {p.team:<4}  {p.x:>2}  {p.y:>2}  {p.grenades:>8}  "
            f"{'yes' if p.alive else 'no'}"
        )


@app.command()
def new(
    game_id: Annotated[
        int | None,
        typer.Option(
            "--id",
            min=0,
            max=MAX_GAME_ID,
            help="The game's id (default: one above every game in the recovery store).",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Pick a game id (or take --id) and print each player's join token (MOBA_SECRET)."""
    from cli.tokens import issue_tokens
    from domain.rematch import fresh_game_id

    settings = _settings(data_dir)
    known = _known_games(settings)
    if game_id is None:
        game_id = fresh_game_id(list(known))
    elif game_id in known and known[game_id].status != "running":
        typer.echo(
            f"Game {game_id} is over ({_status_line_of(known[game_id])}): its id is not "
            "reused; leave out --id for a fresh one.",
            err=True,
        )
        raise typer.Exit(1)
    elif game_id in known:
        typer.echo(f"Game {game_id} is being played ({_status_line_of(known[game_id])}).")
    tokens = issue_tokens(settings, game_id)
    if tokens is None:
        typer.echo(f"Game {game_id} is open: no MOBA_SECRET is set, so no token is needed.")
        typer.echo(f"Play: moba client --game {game_id} --player A1")
        return
    typer.echo(f"Game {game_id}: give each player its own token, and to nobody else.")
    for player, token in sorted(tokens.items()):
        typer.echo(f"{player:<3} {token}")
    typer.echo(f"Play: moba client --game {game_id} --player A1 --token <A1's token>")


@app.command()
def seats(
    game_id: Annotated[int, typer.Argument(min=0, max=MAX_GAME_ID, help="The game's id.")],
    data_dir: DataDir = None,
) -> None:
    """Each seat of a game: its team, whether its player is alive, who holds it (or free), how long idle."""
    import time

    from cli.seats import describe_seats

    typer.echo(describe_seats(_snapshot(data_dir, game_id).state, time.time()))


def _settings(data_dir: Path | None) -> "Settings":
    """The settings, with `--data-dir` in place of MOBA_DATA_DIR when given.

    Read even with --data-dir: a bad MOBA_* setting is said at once.
    """
    from infra.settings import Settings

    settings = Settings()
    return settings if data_dir is None else settings.model_copy(update={"data_dir": data_dir})


def _known_games(settings: "Settings") -> "dict[int, GameState]":
    """Every game the recovery store holds, by id (none when no dataflow has kept games yet)."""
    from api.store import GameStore, NoStore, NotARecoveryStore

    try:
        with GameStore.of(settings) as store:
            return {snap.state.game_id: snap.state for snap in store.games(archived=True)}
    except NoStore:
        return {}
    except NotARecoveryStore as err:
        typer.echo(f"Cannot check the game ids in use: {err}", err=True)
        raise typer.Exit(STORE_UNAVAILABLE) from None


def _store(data_dir: Path | None) -> "GameStore":
    """The opened store, or a clear message and exit code 3."""
    from api.store import GameStore, NoStore, NotARecoveryStore

    store = GameStore.of(_settings(data_dir))
    try:
        store.open()
    except (NoStore, NotARecoveryStore) as err:
        typer.echo(f"Cannot read games: {err}", err=True)
        raise typer.Exit(STORE_UNAVAILABLE) from None
    return store


def _snapshot(data_dir: Path | None, game_id: int) -> "GameSnapshot":
    """One game's snapshot, or a clear message and exit code 1 when the store has no such game."""
    from api.store import UnknownGame

    with _store(data_dir) as store:
        try:
            return _read(lambda: store.game(game_id))
        except UnknownGame as err:
            typer.echo(f"{err}.", err=True)
            raise typer.Exit(1) from None


def _read(query: Callable[[], T]) -> T:
    from api.store import NoStore, NotARecoveryStore

    try:
        return query()
    except (NoStore, NotARecoveryStore) as err:
        typer.echo(f"Cannot read games: {err}", err=True)
        raise typer.Exit(STORE_UNAVAILABLE) from None


def _status_line_of(s: "GameState") -> str:
    result = (
        f"winner {s.winner}"
        if s.winner
        else f"{s.live_players('A')} A vs {s.live_players('B')} B alive"
    )
    return f"{s.status}, {result}, version {s.version}"


def _status_line(snap: "GameSnapshot") -> str:
    if snap.archived:
        return f"{_status_line_of(snap.state)}; archived, ended {_age(snap)} ago"
    return (
        f"{_status_line_of(snap.state)}; "
        f"snapshot of epoch {snap.epoch} (resume epoch {snap.resume_epoch}), {_age(snap)} old"
    )


def _age(snap: "GameSnapshot") -> str:
    return f"{snap.age_s():.0f}s"
