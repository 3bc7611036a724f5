"""`moba up`: the whole backend (broker, topics, dataflow with recovery) until Ctrl-C."""

import signal
from types import FrameType

import typer


def up(
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Dataflow worker threads."),
    recovery: bool = typer.Option(True, help="Snapshot state to <data_dir>/recovery and resume."),
    api: bool = typer.Option(True, help="Serve the query API (`moba api`) too."),
) -> None:
    """Start the broker (unless one answers), create topics, run the dataflow; Ctrl-C stops all."""
    from cli.stack import Stack, StackError
    from infra.broker import BrokerError
    from infra.kafka import TopicMismatch
    from infra.settings import Settings

    settings = Settings()  # a bad MOBA_* setting: named by cli.main, exit 2
    stop_on_signals()
    stack = Stack(settings, workers=workers, recovery=recovery, say=typer.echo)
    try:
        stack.start()
        if api:
            stack.add_api()
        typer.echo(
            f"up: actions -> {settings.actions_topic}, states <- {settings.games_topic}, "
            f"dead letters -> {settings.dlq_topic} on {settings.bootstrap_servers}; Ctrl-C stops"
        )
        if settings.secret is None:
            typer.echo("games are open: no MOBA_SECRET, anyone may act as any player")
        else:
            typer.echo("games are closed: every action needs its player's token (moba games new)")
        dead = stack.wait()
        typer.echo(
            f"{dead.name} exited with code {dead.process.returncode}:\n{dead.log_tail()}", err=True
        )
        raise typer.Exit(1)
    except KeyboardInterrupt:
        typer.echo("stopping")
        raise typer.Exit(130) from None  # the shell's convention after Ctrl-C, once all stopped
    except (StackError, BrokerError, TopicMismatch) as err:
        typer.echo(f"cannot run: {err}", err=True)
        raise typer.Exit(1) from None
    finally:
        stack.stop()


def stop_on_signals() -> None:
    """Ctrl-C, SIGTERM and SIGHUP (a closed terminal) all stop what we started, cleanly.

    Even when SIGINT came in ignored: a shell starts background jobs with SIGINT ignored,
    and Python then keeps it so. The default for the other two would end this process at
    once and leave the broker and the dataflow to the kernel's SIGTERM (infra/children.py).
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
