"""A real terminal for end-to-end tests: a private tmux server, keys in, screen out."""

import shlex
import subprocess
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
        line = " ".join(
            ["env", *(shlex.quote(f"{k}={v}") for k, v in env.items()), *map(shlex.quote, command)]
        )
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
        """The exit status of the pane's program once it has exited (128+N after signal N).

        tmux may mark the pane dead (its terminal closed) before the process has exited and
        been reaped, which a loaded machine can stretch to seconds: polled to a deadline.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            status, _, signum = self._tmux(
                "display-message", "-p", "-t", "t", "#{pane_dead_status} #{pane_dead_signal}"
            ).partition(" ")
            if status.strip():
                return int(status)
            if signum.strip():
                return 128 + int(signum)
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
