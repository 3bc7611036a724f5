"""Queries on a store of many games: `moba games show` wall time and `GET /games/{id}` latency.

Limits: the interpreter starting and exiting (`python -c pass`) for the command, and
the API's cheapest route (`GET /health`) on the same server for the endpoint.
"""

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from dataflows.process import Process
from infra.broker import free_port


def command_s(argv: list[str]) -> float:
    """Wall time of one run of `argv` (which must succeed)."""
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def show_s(moba: list[str], data_dir: Path, game_id: int) -> float:
    return command_s([*moba, "games", "show", str(game_id), "--data-dir", str(data_dir)])


def interpreter_s() -> float:
    return command_s([sys.executable, "-c", "pass"])


class Api:
    """`moba api` on a free port over `data_dir`, as a child process; a keep-alive HTTP client."""

    def __init__(self, moba: list[str], data_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOBA_")}
        argv = [*moba, "api", "--port", str(self.port), "--data-dir", str(data_dir)]
        self.server = Process.start("moba api", argv, log_path, env=env)
        self.http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            self.server.raise_if_exited()
            try:
                status, body = self.get("/health")
                if status == 200 and json.loads(body)["store"] == "ready":
                    return
            except OSError:
                self.http.close()
            if time.monotonic() > deadline:
                raise TimeoutError("moba api never became ready")
            time.sleep(0.1)  # a port that is not listening yet has nothing to block on

    def get(self, path: str) -> tuple[int, bytes]:
        self.http.request("GET", path)
        response = self.http.getresponse()
        return response.status, response.read()

    def latencies_ms(self, paths: list[str]) -> list[float]:
        """Each GET's time to a full 200 response, in ms."""
        out = []
        for path in paths:
            started = time.perf_counter()
            status, _ = self.get(path)
            out.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"GET {path}: {status}")
        return out

    def close(self) -> None:
        self.http.close()
        self.server.stop(10, signal.SIGTERM)


def game_paths(games: int, count: int, seed: int = 6) -> list[str]:
    rng = random.Random(seed)
    return [f"/games/{rng.randrange(games)}" for _ in range(count)]
