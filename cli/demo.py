"""`moba demo`: the whole game on one machine: embedded broker, topics, dataflow, nine bots, you.

Quitting the client stops everything in reverse order; the broker and the dataflow
run in their own sessions so a stray Ctrl-C cannot leave one of them half-stopped.
"""

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from cli.bots import ALL_PLAYERS
from cli.logs import to_file
from cli.tokens import issue_tokens, tokens_for
from client.app import play
from client.bots import run_bots
from client.transport import KafkaTransport
from client.view import winner_words
from dataflows import launch
from infra.broker import EmbeddedBroker, free_port, port_in_use
from infra.kafka import create_topics
from infra.settings import Settings

log = logging.getLogger("moba.demo")


def demo(
    player: Annotated[str, typer.Option(help="Who you play.")] = "A2",
    game: Annotated[int, typer.Option(help="Game id.", min=0)] = 1,
    rate: Annotated[float, typer.Option(help="Intents per second of all bots.", min=0.1)] = 3.0,
    port: Annotated[int, typer.Option(help="Broker port (default 9092, or any free one).")] = 0,
) -> None:
    """Start a broker, the topics, the dataflow and nine bots, then the client for PLAYER."""
    base = Settings()
    root = base.data_dir / "demo"
    # the embedded broker forgets everything when it stops, so must the recovery store
    shutil.rmtree(root, ignore_errors=True)
    logs = root / "logs"
    logs.mkdir(parents=True)
    port = port or (9092 if not port_in_use("127.0.0.1", 9092) else free_port())
    with to_file(logs / "demo.log", capture_stderr=True), contextlib.ExitStack() as stack:
        typer.echo(f"starting the embedded broker on 127.0.0.1:{port} ...")
        broker = stack.enter_context(EmbeddedBroker(port=port, log_path=logs / "tansu.log"))
        settings = base.model_copy(
            update={"bootstrap_servers": broker.bootstrap_servers, "data_dir": root}
        )
        create_topics(settings)
        tokens = issue_tokens(settings, game)  # as `moba games new` prints them
        if tokens is None:
            typer.echo("games are open: no MOBA_SECRET, anyone may act as any player")
        else:
            typer.echo(f"game {game} is closed: you and the bots play with join tokens")
        typer.echo("starting the dataflow (with recovery) ...")
        stack.enter_context(dataflow(settings, logs / "dataflow.log"))
        typer.echo(f"starting the bots ({rate}/s); logs in {logs}")
        stack.enter_context(bots(settings, game, player, rate))
        with KafkaTransport(settings, [game]) as transport:
            token = None if tokens is None else tokens.get(player)
            view = asyncio.run(play(transport, game, player, token=token))
        typer.echo("stopping the bots, the dataflow and the broker ...")
        log.info("client quit")
    if view.state is not None and view.state.status == "finished":
        typer.echo(f"Game {game}: {winner_words(view.state)}.")
    typer.echo("bye")


@contextlib.contextmanager
def dataflow(settings: Settings, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The games dataflow as a child in its own session; interrupted, then killed, on exit."""
    with open(log_path, "ab") as out:
        process = subprocess.Popen(
            launch.command(workers=1),
            cwd=launch.REPO_ROOT,
            env=launch.environment(settings, recovery=True),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        log.info("stopping the dataflow")
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.info("dataflow stopped: %s", process.returncode)


@contextlib.contextmanager
def bots(settings: Settings, game: int, human: str, rate: float) -> Iterator[threading.Thread]:
    """The nine other players as bots on a thread of this process; stopped and joined on exit."""
    seats = [(game, p) for p in ALL_PLAYERS if p != human]
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
        log.info("stopping the bots")
        stop.set()
        thread.join(10)
        transport.close()
        log.info("bots stopped")
