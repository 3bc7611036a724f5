"""Where the terminal programs write their logs: a file under data_dir, never the screen."""

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path


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
