"""`moba broker`: the embedded Kafka-compatible broker (Tansu) in the foreground until Ctrl-C.

It keeps topics in memory only: stopping it forgets every message.
"""

import time

import typer

from infra.broker import BrokerError, EmbeddedBroker


def broker(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(9092, min=1, max=65535, help="Port to listen on."),
) -> None:
    """Run the embedded broker (in memory only) until Ctrl-C."""
    try:
        running = EmbeddedBroker(host, port).start()
    except BrokerError as err:
        typer.echo(f"cannot start the broker: {err}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"embedded broker listening on {running.bootstrap_servers} (in memory); Ctrl-C stops it"
    )
    try:
        while running.process is not None and running.process.poll() is None:
            time.sleep(0.5)
        typer.echo(f"broker exited with code {running.process.returncode}", err=True)
        raise typer.Exit(1)
    except KeyboardInterrupt:
        typer.echo("stopping the broker")
    finally:
        running.stop()
