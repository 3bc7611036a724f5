"""The `moba` command line: one Typer app per command group, mounted in `cli.main`.

`main` is the console script. It imports the commands itself, so a Ctrl-C while they
load (the first few hundred milliseconds) exits 130 like any other, without a traceback.
"""

import signal
import sys


def main() -> None:
    """Run `moba` with the process's arguments."""
    # A KeyboardInterrupt raised inside a compiled library while it builds (pydantic's
    # validators, for one) comes out as that library's own error: so a Ctrl-C during the
    # imports is only noted, and acted on once they are done.
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        from cli.main import app
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        sys.exit(130)
    try:
        app()  # Typer turns a Ctrl-C in a command into exit 130, not one while it builds them
    except KeyboardInterrupt:
        sys.exit(130)
