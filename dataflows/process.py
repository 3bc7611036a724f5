"""A process we started, in a session of its own and logging to a file: the one handle for a dataflow.

`moba up` (cli/stack.py) keeps its dataflow, bots and API in it; the bench and the tests
keep their dataflows in it. Its own session makes it a process group, so a stop or a
kill -9 reaches everything the process started, and nothing else.
"""

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from infra.children import spawn


class Exited(RuntimeError):
    """The process exited while it should be running; the message ends with its log's tail."""


@dataclass
class Process:
    """A started process: its name, its `subprocess.Popen`, its log and when it was started."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: float  # time.monotonic() just before it was spawned

    @classmethod
    def start(
        cls,
        name: str,
        argv: list[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        tied: bool = False,
    ) -> "Process":
        """Spawn `argv` in its own session, stdin closed, stdout and stderr appended to `log_path`.

        A `tied` process gets SIGTERM from the kernel if we die without stopping it.
        """
        log_path.parent.mkdir(parents=True, exist_ok=True)
        started_at = time.monotonic()
        with open(log_path, "ab") as log:
            process = spawn(
                argv,
                tied=tied,
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return cls(name, process, log_path, started_at)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        """Send `sig` to the whole process group (nothing if it is gone already)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def stop(self, timeout_s: float = 10.0, sig: int = signal.SIGINT) -> int:
        """SIGINT (as Ctrl-C would), or `sig`, then SIGKILL if it does not exit in time; its exit code."""
        self.signal_group(sig)
        return self.wait_or_kill(timeout_s)

    def wait_or_kill(self, timeout_s: float = 10.0) -> int:
        """Wait for the exit; kill -9 the group if it takes longer than `timeout_s`."""
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return self.kill()

    def kill(self) -> int:
        """kill -9 the whole group, then reap it: no clean shutdown, no last snapshot."""
        self.signal_group(signal.SIGKILL)
        return self.process.wait()

    def raise_if_exited(self) -> None:
        """Raise `Exited`, with the log's tail, if the process is no longer running."""
        if not self.alive():
            raise Exited(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail(40)}")

    def log_tail(self, lines: int = 20) -> str:
        """The last `lines` lines of the log ("" before it has any)."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
