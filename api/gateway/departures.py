"""Seats whose sockets have all closed: each gets a `leave` unless one comes back within the grace.

A page that reloads, or loses its network for a moment, reconnects with the same
session (one per browser tab) and must keep its seat; a tab that was closed never
comes back, and its seat is freed after the grace instead of after the idle timeout.
Belongs to the event loop's thread. A gateway that stops sends no `leave` for its
sockets: their players reconnect to another gateway and keep their seats.
"""

import asyncio
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Holder = TypeVar("Holder", bound=Hashable)  # a seat as one session holds it (game, player, session)


class Departures(Generic[Holder]):
    """Count each holder's open sockets; `leave(holder)` once the last has been gone `grace_s`."""

    def __init__(self, grace_s: float, leave: Callable[[Holder], None]) -> None:
        self.grace_s = grace_s
        self._leave = leave
        self._sockets: dict[Holder, int] = {}
        self._timers: dict[Holder, asyncio.TimerHandle] = {}

    def arrived(self, holder: Holder) -> None:
        """A socket of `holder` opened: it keeps its seat, whatever was pending."""
        self._sockets[holder] = self._sockets.get(holder, 0) + 1
        timer = self._timers.pop(holder, None)
        if timer is not None:
            timer.cancel()

    def departed(self, holder: Holder, *, left: bool = False) -> None:
        """A socket of `holder` closed; `left`: it already sent `leave` itself, so none is due."""
        count = self._sockets.get(holder, 0) - 1
        if count > 0:
            self._sockets[holder] = count
            return
        self._sockets.pop(holder, None)
        if not left:
            loop = asyncio.get_running_loop()
            self._timers[holder] = loop.call_later(self.grace_s, self._expire, holder)

    @property
    def pending(self) -> list[Holder]:
        """Holders whose `leave` is due once their grace ends."""
        return list(self._timers)

    def forget_all(self) -> None:
        """The gateway is stopping: no `leave` for anyone (their players come back elsewhere)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _expire(self, holder: Holder) -> None:
        del self._timers[holder]
        self._leave(holder)
