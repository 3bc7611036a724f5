"""A real gateway for tests: `moba api` in a process of its own, and WebSocket helpers to talk to it.

A process, not a thread, so a test can kill it with SIGKILL as an operator's crash would.
"""

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from dataflows.process import Process
from infra.broker import free_port
from infra.settings import Settings

Frame = dict[str, Any]


class GatewayProcess:
    """`python -m cli api` on a free port with `settings`, as a `Process` of its own."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings.model_copy(update={"api_port": free_port()})
        self.log_path = log_path
        self.process: Process | None = None

    @property
    def base(self) -> str:
        return f"ws://127.0.0.1:{self.settings.api_port}"

    def start(self, timeout_s: float = 30.0) -> "GatewayProcess":
        """Start it and wait until it answers /health."""
        env = {**os.environ, **self.settings.as_env()}
        self.process = process = Process.start(
            "gateway", [sys.executable, "-m", "cli", "api"], self.log_path, env=env
        )
        deadline = time.monotonic() + timeout_s
        while True:
            process.raise_if_exited()
            try:
                httpx.get(f"http://127.0.0.1:{self.settings.api_port}/health", timeout=1.0)
                return self
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"no answer:\n{process.log_tail(40)}") from None
                time.sleep(0.05)  # between polls, not instead of one

    def kill(self) -> None:
        """kill -9: no clean shutdown, sockets cut without a close frame."""
        if self.process is not None:
            self.process.kill()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


async def next_frame(ws: ClientConnection, timeout_s: float = 30.0) -> Frame:
    """The next frame, parsed; fails if none comes in time."""
    async with asyncio.timeout(timeout_s):
        return dict(json.loads(await ws.recv()))


async def frames_until(
    ws: ClientConnection, done: Callable[[Frame], bool], timeout_s: float = 60.0
) -> list[Frame]:
    """Frames until `done(frame)` holds for one (included); fails with what came at the deadline."""
    return await collect(ws, [], lambda frames: done(frames[-1]), timeout_s)


async def collect(
    ws: ClientConnection,
    frames: list[Frame],
    done: Callable[[list[Frame]], bool],
    timeout_s: float = 60.0,
) -> list[Frame]:
    """Append frames to `frames` until `done(frames)`; fails with the last ones at the deadline."""
    try:
        async with asyncio.timeout(timeout_s):
            while not (frames and done(frames)):
                frames.append(dict(json.loads(await ws.recv())))
            return frames
    except TimeoutError:
        raise AssertionError(f"not done in {timeout_s} s; last frames {frames[-5:]}") from None


def is_state(frame: Frame) -> bool:
    return "type" not in frame
