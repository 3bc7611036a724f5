"""A real gateway for tests: `moba api` in a process of its own, and WebSocket helpers to talk to it.

A process, not a thread, so a test can kill it with SIGKILL as an operator's crash would.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from infra.broker import free_port
from infra.settings import Settings

Frame = dict[str, Any]


class GatewayProcess:
    """`python -m cli api` on a free port with `settings`, in its own process group."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings.model_copy(update={"api_port": free_port()})
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"ws://127.0.0.1:{self.settings.api_port}"

    def start(self, timeout_s: float = 30.0) -> "GatewayProcess":
        """Start it and wait until it answers /health."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli", "api"],
                env={**os.environ, **self.settings.as_env()},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"the gateway exited:\n{self.log()}")
            try:
                httpx.get(f"http://127.0.0.1:{self.settings.api_port}/health", timeout=1.0)
                return self
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"the gateway never answered:\n{self.log()}") from None
                time.sleep(0.05)  # between polls, not instead of one

    def kill(self) -> None:
        """kill -9: no clean shutdown, sockets cut without a close frame."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""


async def next_frame(ws: ClientConnection, timeout_s: float = 30.0) -> Frame:
    """The next frame, parsed; fails if none comes in time."""
    async with asyncio.timeout(timeout_s):
        return dict(json.loads(await ws.recv()))


async def frames_until(ws: ClientConnection, done: Any, timeout_s: float = 60.0) -> list[Frame]:
    """Frames until `done(frame)` holds for one (included); fails with what came at the deadline."""
    frames: list[Frame] = []
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                frame = dict(json.loads(await ws.recv()))
                frames.append(frame)
                if done(frame):
                    return frames
    except TimeoutError:
        raise AssertionError(f"no such frame in {timeout_s} s; got {frames[-5:]}") from None


def is_state(frame: Frame) -> bool:
    return "type" not in frame
