"""The `moba` command: every command and command group is mounted here and nowhere else.

Command modules import their heavy dependencies (Kafka, prompt-toolkit, bytewax,
FastAPI) inside the command, so `moba games show` does not pay for `moba client`.
"""

import typer

from cli import api, bench, bots, broker, client, demo, games, topics, up

app = typer.Typer(
    name="moba",
    help="A multiplayer online battle arena whose backend is Kafka and a Bytewax dataflow.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(demo.demo)
app.command()(up.up)
app.command()(client.client)
app.command()(bots.bots)
app.add_typer(games.app, name="games")
app.command()(api.api)
app.add_typer(topics.app, name="topics")
app.command()(broker.broker)
app.command()(bench.bench)
