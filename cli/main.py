"""The `moba` command: every command and command group is mounted here and nowhere else.

Command modules import their heavy dependencies (Kafka, prompt-toolkit, bytewax,
FastAPI) inside the command, so `moba games show` does not pay for `moba client`.
"""

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from cli import api, bench, bots, broker, client, demo, dlq, games, logs, play, replay, topics, up
from infra.settings import BadSetting


def version_callback(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"moba {version('moba')}")
        raise typer.Exit()


class Moba(TyperGroup):
    """The root command: turns what every command may meet into one message and exit code.

    Any command may read the settings, so a bad MOBA_* variable is reported here, once,
    rather than by each command. (Ctrl-C is exit 130 already: Typer's convention.)
    """

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BadSetting as err:  # a usage error: every variable named, exit 2
            for problem in err.problems:
                typer.echo(f"bad setting {problem}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=Moba,
    name="moba",
    help="A multiplayer online battle arena whose backend is Kafka and a Bytewax dataflow.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=version_callback,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """A multiplayer online battle arena whose backend is Kafka and a Bytewax dataflow."""


app.command()(demo.demo)
app.command()(up.up)
app.command()(play.play)
app.command()(client.client)
app.command()(bots.bots)
games.app.command()(replay.replay)
games.app.command()(replay.audit)
app.add_typer(games.app, name="games")
app.command()(api.api)
app.add_typer(topics.app, name="topics")
app.command()(broker.broker)
app.command()(logs.logs)
app.command()(dlq.dlq)
app.command()(bench.bench)
