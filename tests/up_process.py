"""`moba up` as a person runs it, for fault tests: its console, every process it starts, its end.

`UpProcess` remembers every descendant it has seen (broker, dataflow, API, restarted
dataflows), so a test can check that none outlives it, however it was stopped.
"""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import psutil

from infra.broker import free_port
from infra.settings import Settings
from tests.programs import MOBA


def up_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a `moba up` of a test's own: its embedded broker and API on free ports."""
    return Settings(
        bootstrap_servers=f"127.0.0.1:{free_port()}",
        data_dir=data_dir,
        api_port=free_port(),
        **overrides,  # type: ignore[arg-type]
    )


class UpProcess:
    """One `moba up`, its console in `log_path`."""

    def __init__(self, settings: Settings, log_path: Path, args: tuple[str, ...] = ()) -> None:
        self.settings = settings
        self.log_path = log_path
        self.seen: dict[int, psutil.Process] = {}
        env = {**os.environ, **settings.as_env()}
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [MOBA, "up", *args], env=env, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def console(self) -> str:
        return self.log_path.read_text(errors="replace")

    def look(self) -> list[psutil.Process]:
        """Every live descendant now (and remember them all)."""
        try:
            now = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for child in now:
            self.seen.setdefault(child.pid, child)
        return now

    def wait_for(self, text: str, timeout_s: float = 60, after: int = 0) -> int:
        """Poll the console until `text` appears past character `after`; where it ends."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.look()
            console = self.console()
            found = console.find(text, after)
            if found >= 0:
                return found + len(text)
            assert self.process.poll() is None, f"moba up exited:\n{console}"
            assert time.monotonic() < deadline, f"never saw {text!r}:\n{console}"
            time.sleep(0.02)  # the poll's period

    def pids(self, name: str) -> list[int]:
        """The pids the console gave for child `name` (`dataflow: pid N`), in order."""
        return [int(p) for p in re.findall(rf"^{name}: pid (\d+)", self.console(), re.M)]

    def signal(self, sig: int) -> None:
        self.look()
        self.process.send_signal(sig)

    def wait_exit(self, timeout_s: float = 60) -> int:
        return self.process.wait(timeout_s)

    def survivors(self, timeout_s: float = 10) -> list[psutil.Process]:
        """Descendants ever seen that still run `timeout_s` after it exited (none, we hope)."""
        _, alive = psutil.wait_procs(list(self.seen.values()), timeout=timeout_s)
        return [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]

    def stop(self) -> None:
        """Ctrl-C, and kill whatever is left (a failed test must not leave processes)."""
        if self.process.poll() is None:
            self.signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        for survivor in self.survivors(timeout_s=5):
            survivor.kill()
