"""What the client's tasks tell each other besides game states: the broker link and failed sends."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    """The connection to the broker: `up` or not, with a short human-readable detail."""

    up: bool
    detail: str


@dataclass(frozen=True)
class Undelivered:
    """An action the producer gave up on (the broker never acknowledged it)."""

    action_id: str
    error: str
