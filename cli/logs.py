"""Logs: where the programs write them (a file under `<data_dir>/logs`, never the screen),
and `moba logs`, which shows them.

`moba up` gives each of its processes a file: `dataflow.log`, `api.log`, `broker.log`;
the terminal programs write `client-<game>-<player>.log` and `bots.log`.
"""

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

FOLLOW_POLL_S = 0.2  # how often -f looks for new lines


@contextlib.contextmanager
def to_file(path: Path, *, capture_stderr: bool) -> Iterator[Path]:
    """Send every log record to `path`; with `capture_stderr`, also whatever C code writes to fd 2.

    A full-screen client captures stderr so that no library message or traceback can
    scribble over the board.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s")
    )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    saved_fd = None
    if capture_stderr:
        sys.stderr.flush()
        saved_fd = os.dup(2)
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
    try:
        yield path
    finally:
        if saved_fd is not None:
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
        root.removeHandler(handler)
        handler.close()


def logs(
    name: Annotated[
        str | None,
        typer.Argument(
            help="Which log: dataflow, api, broker (or client-..., bots).",
            show_default="list them",
        ),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines until Ctrl-C.")
    ] = False,
    lines: Annotated[
        int, typer.Option("--lines", "-n", min=0, help="Lines of the end to show.")
    ] = 40,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="MOBA_DATA_DIR", show_default=".moba", help="Data directory holding `logs/`."
        ),
    ] = None,
) -> None:
    """The end of a log of `moba up` (dataflow, api, broker), or of a client's or the bots'."""
    if data_dir is None:
        from infra.settings import Settings

        data_dir = Settings().data_dir
    directory = data_dir / "logs"
    known = sorted(p.stem for p in directory.glob("*.log"))
    if name is None:
        if not known:
            typer.echo(f"No logs in {directory} yet: `moba up` writes them.")
            return
        for stem in known:
            path = directory / f"{stem}.log"
            typer.echo(f"{stem:<24} {path.stat().st_size:>12,} bytes  {path}")
        return
    if name not in known:
        there = ", ".join(known) or "none yet"
        typer.echo(f"no log {name!r} in {directory} (there: {there})", err=True)
        raise typer.Exit(1)
    path = directory / f"{name}.log"
    log = path.open("rb")
    try:
        for line in _last_lines(log, lines):
            typer.echo(line.decode(errors="replace"), nl=False)
        while follow:
            if _replaced(path, log):  # a new `moba up` wrote a new file
                log.close()
                log = path.open("rb")
            chunk = log.read()
            if chunk:
                typer.echo(chunk.decode(errors="replace"), nl=False)
            else:
                time.sleep(FOLLOW_POLL_S)  # the poll's period
    finally:
        log.close()


def _last_lines(log: BinaryIO, count: int) -> list[bytes]:
    """The last `count` lines of `log`, read from its end in blocks; leaves it at its end."""
    end = log.seek(0, os.SEEK_END)
    block, found = 65536, b""
    position = end
    while position > 0 and found.count(b"\n") <= count:
        position = max(0, position - block)
        log.seek(position)
        found = log.read(min(block, end - position)) + found
    log.seek(end)
    return found.splitlines(keepends=True)[-count:] if count else []


def _replaced(path: Path, log: BinaryIO) -> bool:
    """Whether `path` is now another file than `log`, or the same one cut shorter."""
    try:
        now = path.stat()
    except FileNotFoundError:
        return False  # between a removal and the new file: keep the old one for now
    return now.st_ino != os.fstat(log.fileno()).st_ino or now.st_size < log.tell()
