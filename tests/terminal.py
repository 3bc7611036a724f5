"""A real terminal for end-to-end tests: a private tmux server, keys in, screen out."""

import contextlib
import shlex
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

import psutil

TMUX = "/usr/bin/tmux"


class Terminal:
    """One tmux session on its own server socket, running `command` in a `width` x `height` pane."""

    def __init__(self, width: int = 100, height: int = 32) -> None:
        self.socket = f"moba-test-{uuid.uuid4().hex[:8]}"
        self.width = width
        self.height = height

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return done.stdout

    def start(self, command: list[str], env: Mapping[str, str], cwd: Path) -> "Terminal":
        """Run `command` with `env` added to the environment; the pane stays after it exits."""
        program = " ".join(
            ["env", *(shlex.quote(f"{k}={v}") for k, v in env.items()), *map(shlex.quote, command)]
        )
        # The pane's shell writes the program's exit status to a file: tmux shows it only
        # once it has reaped the program, which it can fail to do for seconds. A trapped
        # SIGINT (unlike an ignored one) reaches the program as in any terminal, and the
        # shell outlives a Ctrl-C to record the status (130 after one).
        self._status_file = Path(tempfile.mkdtemp(prefix="moba-pane-")) / "status"
        line = f"trap true INT; {program}; echo $? > {shlex.quote(str(self._status_file))}"
        subprocess.run(
            [TMUX, "-L", self.socket, "new-session", "-d", "-s", "t", "-c", str(cwd),
             "-x", str(self.width), "-y", str(self.height), line],
            check=True, timeout=10,
        )  # fmt: skip
        self._tmux("set-option", "-t", "t", "remain-on-exit", "on")
        return self

    def keys(self, *keys: str) -> None:
        """Press `keys` (tmux names: Up, Down, Left, Right, C-c, or plain letters)."""
        self._tmux("send-keys", "-t", "t", *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, seen: Callable[[str], bool], timeout_s: float = 30.0) -> str:
        """Poll the screen until `seen(screen)`; fails with the last screen at the deadline."""
        deadline = time.monotonic() + timeout_s
        while True:
            text = self.screen()
            if seen(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never matched; last screen:\n{text}")
            time.sleep(0.05)  # the poll's period, not a wait for something to happen

    def pane_pid(self) -> int:
        return int(self._tmux("display-message", "-p", "-t", "t", "#{pane_pid}").strip())

    def exited(self) -> bool:
        """Whether the program in the pane has exited."""
        return self._tmux("display-message", "-p", "-t", "t", "#{pane_dead}").strip() == "1"

    def exit_status(self, timeout_s: float = 30.0) -> int | None:
        """The exit status of the pane's program once it has exited (130 after Ctrl-C)."""
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(FileNotFoundError, ValueError):
                return int(self._status_file.read_text())
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)  # the poll's period

    def processes(self) -> list[psutil.Process]:
        """The pane's program and all its descendants, while they live."""
        try:
            root = psutil.Process(self.pane_pid())
            return [root, *root.children(recursive=True)]
        except (psutil.NoSuchProcess, ValueError):
            return []

    def close(self) -> None:
        self._tmux("kill-server")
        if hasattr(self, "_status_file"):
            shutil.rmtree(self._status_file.parent, ignore_errors=True)
