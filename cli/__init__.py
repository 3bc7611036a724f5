"""The `moba` command line: one Typer app per command group, mounted in `cli.main`.

`main` is the console script. It imports the commands itself, so a Ctrl-C while they
load (the first few hundred milliseconds) exits 130 like any other, without a traceback.
"""

import sys


def main() -> None:
    """Run `moba` with the process's arguments."""
    try:
        from cli.main import app
    except KeyboardInterrupt:
        sys.exit(130)
    app()
