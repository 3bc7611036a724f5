"""The `moba` command: one Typer app per command group, mounted here and nowhere else."""

import typer

from cli import bots, client, demo

app = typer.Typer(
    name="moba",
    help="A multiplayer online battle arena whose backend is Kafka and a Bytewax dataflow.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.add_typer(client.app, name="client")
app.add_typer(bots.app, name="bots")
app.add_typer(demo.app, name="demo")
