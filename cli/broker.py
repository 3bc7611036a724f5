"""`moba broker`: the embedded Kafka-compatible broker in the foreground until Ctrl-C.

MOBA_EMBEDDED_BROKER picks it: tansu keeps topics in memory only (stopping it forgets
every message); noida keeps its log in `<data_dir>/broker` across restarts.
"""

import time

import typer


def broker(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(9092, min=1, max=65535, help="Port to listen on."),
) -> None:
    """Run the embedded broker (MOBA_EMBEDDED_BROKER: tansu or noida) until Ctrl-C."""
    from cli.up import stop_on_signals
    from infra.broker import BrokerError, EmbeddedBroker
    from infra.settings import Settings

    settings = Settings()  # a bad MOBA_* setting: named by cli.main, exit 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stop_on_signals()
    running = EmbeddedBroker(
        host,
        port,
        log_path=settings.data_dir / "broker.log",
        kind=settings.embedded_broker,
        data_dir=settings.broker_dir,
        tied=True,  # the kernel stops it if this process dies without stopping it
    )
    try:
        running.start()
        typer.echo(
            f"embedded broker listening on {running.bootstrap_servers} ({running.describe()}, "
            f"pid {running.pid}); Ctrl-C stops it"
        )
        while running.process is not None and running.process.poll() is None:
            time.sleep(0.5)
        typer.echo(f"broker exited with code {running.process.returncode}", err=True)
        raise typer.Exit(1)
    except BrokerError as err:
        typer.echo(f"cannot start the broker: {err}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("stopping the broker")
        raise typer.Exit(130) from None  # the shell's convention after Ctrl-C, once stopped
    finally:
        running.stop()  # also when interrupted while it was starting
