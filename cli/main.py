"""The `moba` command: one Typer app per command group, mounted here and nowhere else."""

import typer

from cli import broker, topics, up

app = typer.Typer(
    name="moba",
    help="A multiplayer online battle arena whose backend is Kafka and a Bytewax dataflow.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(broker.broker)
app.add_typer(topics.app, name="topics")
app.command()(up.up)
