"""What one socket is waiting to be sent: its states in version order, and its reports.

Belongs to the event loop's thread. A slow socket never holds anyone up: beyond its
buffer the oldest waiting state is dropped (every state is whole, so the newest is
always right), while reports (`undelivered`, `waiting`) are never dropped.
"""

import asyncio
import json
from collections import deque


class Subscriber:
    """The outbox of one socket: `offer` states and `report` frames, `next` takes what waits."""

    def __init__(self, buffer: int) -> None:
        self.buffer = buffer
        self.version = -1  # the newest version accepted; older and equal ones are dropped
        self.latest: str | None = None  # that state's JSON
        self._frames: deque[tuple[bool, str]] = deque()  # (is_state, text) in sending order
        self._states = 0
        self._ready = asyncio.Event()
        self._told_waiting = False

    def offer(self, version: int, text: str) -> None:
        """Send this state unless the socket already has it or a newer one."""
        if version <= self.version:
            return
        self.version, self.latest = version, text
        self._frames.append((True, text))
        self._states += 1
        if self._states > self.buffer:
            self._drop_oldest_state()
        self._ready.set()

    def report(self, text: str) -> None:
        """Send this frame (never dropped)."""
        self._frames.append((False, text))
        self._ready.set()

    def no_state_yet(self, game_id: int) -> None:
        """Say, once, that the game has no state yet (its first one will follow)."""
        if not self._told_waiting:
            self._told_waiting = True
            self.report(json.dumps({"type": "waiting", "game_id": game_id}))

    async def next(self) -> list[str]:
        """Every frame waiting, oldest first; waits until there is one."""
        await self._ready.wait()
        self._ready.clear()
        frames = [text for _, text in self._frames]
        self._frames.clear()
        self._states = 0
        return frames

    def _drop_oldest_state(self) -> None:
        for i, (is_state, _) in enumerate(self._frames):
            if is_state:
                del self._frames[i]
                self._states -= 1
                return
