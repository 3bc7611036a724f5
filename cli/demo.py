"""`moba demo`: the whole game on one machine: embedded broker, topics, dataflow, API, nine bots, you.

Quitting the client stops everything in reverse order. The demo keeps its data in
`<data_dir>/demo` and starts it afresh each time: its embedded broker forgets every
message when it stops, so a recovery store from a previous demo would describe a log
that no longer exists.
"""

import contextlib
import shutil
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from domain.board import PLAYERS
from domain.models import MAX_GAME_ID

if TYPE_CHECKING:
    from infra.settings import Settings


def demo(
    player: Annotated[str, typer.Option(help="Who you play.")] = "A2",
    game: Annotated[int, typer.Option(help="Game id.", min=0, max=MAX_GAME_ID)] = 1,
    rate: Annotated[float, typer.Option(help="Intents per second of all bots.", min=0.1)] = 3.0,
    port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            show_default="9092, or a free port if 9092 is taken",
            help="Port of the demo's own broker.",
        ),
    ] = None,
) -> None:
    """Start a broker, the topics, the dataflow, the API and nine bots, then the client for PLAYER.

    After GAME OVER, `n` plays the rematch: the bots move to it with you.
    """
    from functools import partial

    from cli.client import run_client, say_how_it_ended
    from cli.logs import to_file
    from cli.stack import Stack, StackError
    from cli.tokens import issue_tokens
    from infra.broker import free_port, port_in_use
    from infra.settings import Settings

    if player not in PLAYERS:
        typer.echo(f"no player {player!r}: choose one of {', '.join(PLAYERS)}", err=True)
        raise typer.Exit(2)
    base = Settings()
    root = (base.data_dir / "demo").resolve()
    shutil.rmtree(root, ignore_errors=True)
    (root / "logs").mkdir(parents=True)
    port = port or (9092 if not port_in_use("127.0.0.1", 9092) else free_port())
    api_port = base.api_port if not port_in_use(base.api_host, base.api_port) else free_port()
    settings = base.model_copy(
        update={
            "bootstrap_servers": f"127.0.0.1:{port}",
            "data_dir": root,
            "api_port": api_port,
        }
    )
    try:
        with (
            to_file(root / "logs" / "demo.log", capture_stderr=True),
            Stack(settings, say=typer.echo) as stack,
        ):
            stack.add_api()
            tokens = issue_tokens(settings, game)  # as `moba games new` prints them
            if tokens is None:
                typer.echo("games are open: no MOBA_SECRET, anyone may act as any player")
            else:
                typer.echo(f"game {game} is closed: you and the bots play with join tokens")
            typer.echo(f"bots: the nine others at {rate} intents/s; the client starts now")
            token = None if tokens is None else tokens[player]
            beside = partial(bots, settings, human=player, rate=rate)
            view = run_client(settings, game, player, token, beside=beside)
            typer.echo("stopping the bots, the API, the dataflow and the broker ...")
    except StackError as err:
        typer.echo(f"cannot run the demo: {err}", err=True)
        raise typer.Exit(1) from None
    say_how_it_ended(view)
    typer.echo("bye")


@contextlib.contextmanager
def bots(settings: "Settings", game: int, *, human: str, rate: float) -> Iterator[threading.Thread]:
    """The nine other players as bots on a thread of this process; stopped and joined on exit."""
    from cli.tokens import tokens_for
    from client.bots import run_bots
    from client.transport import KafkaTransport

    seats = [(game, p) for p in PLAYERS if p != human]
    stop = threading.Event()
    transport = KafkaTransport(settings, [game], history=0)
    thread = threading.Thread(
        target=run_bots,
        args=(transport, seats),
        kwargs={"rate": rate, "stop": stop, "tokens": tokens_for(settings, seats)},
        name="moba-demo-bots",
        daemon=True,
    )
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(10)
        transport.close()
