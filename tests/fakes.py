"""Hand-written fakes for the client's transport seam; integration tests use the real broker."""

import threading

from client.events import Link
from client.transport import Deliver
from domain.models import Action, GameState
from domain.rules import next_state


class FakeServer:
    """A transport that plays the authoritative server with the pure rules, in memory."""

    def __init__(self, state: GameState, *, apply_rules: bool = True) -> None:
        self.state = state
        self.apply_rules = apply_rules  # False: only record, the state never changes
        self.sent: list[Action] = []
        self._deliver: Deliver | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()

    def send(self, action: Action) -> None:
        self._ready.wait(5)
        with self._lock:
            self.sent.append(action)
            if self.apply_rules:
                self.state = next_state(self.state, action)
                assert self._deliver is not None
                self._deliver(self.state)

    def receive(self, stop: threading.Event, deliver: Deliver) -> None:
        self._deliver = deliver
        deliver(Link(up=True, detail="connected to the fake server"))
        deliver(self.state)
        self._ready.set()
        stop.wait()

    def intents(self) -> list[tuple[str, str | None]]:
        """What was sent, as (type, direction) pairs."""
        with self._lock:
            return [(a.type, getattr(a, "direction", None)) for a in self.sent]
