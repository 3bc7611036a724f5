"""The `moba` command: one Typer app per command group, mounted here and nowhere else."""

import typer

app = typer.Typer(
    name="moba",
    help="A multiplayer online battle arena whose backend is Kafka and a Bytewax dataflow.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

from cli import api, games  # noqa: E402

app.add_typer(games.app, name="games")
app.add_typer(api.app)
