"""Locks on files: one server per data directory, and one opener at a time of a new store.

`moba up` holds `<data_dir>/moba.lock` while it runs: two servers on one recovery store
would both run a dataflow on it and write every state twice. The file holds the
holder's pid, so a refusal can say who holds it.

`one_at_a_time` serialises start-up work that the processes and worker threads of one
dataflow all do at the same moment, such as creating a SQLite store.

Both are flock(2) on a file, which the kernel releases when its holder dies, however it
dies: a kill -9 never leaves anything locked.
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType


@contextmanager
def one_at_a_time(lock_path: Path) -> Iterator[None]:
    """Run the block in one holder at a time among every process and thread locking `lock_path`.

    Each call opens the file anew, so threads of one process exclude each other too.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # waits for the holder
        yield


class DataDirBusy(RuntimeError):
    """Another live process holds the data directory."""


class DataDirLock:
    """`acquire()` or refuse with `DataDirBusy`; `release()` (or the process's death) frees it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "moba.lock"
        self._fd: int | None = None

    def acquire(self) -> "DataDirLock":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirBusy(
                f"another moba up (pid {holder}) is running on {self.data_dir}; stop it "
                "first, or give this one its own MOBA_DATA_DIR"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None

    def __enter__(self) -> "DataDirLock":
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
