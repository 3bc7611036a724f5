"""The games of each partition of `actions`, so a clock record reaches every one of them.

Bytewax keeps state per key, and the game step is keyed by game: a clock record,
written once to a partition, has no game. This step, keyed by partition, sees every
record of its partition in log order, remembers which games have had one, passes
each action on to its game, and hands each clock record to every game it remembers,
in the same order. A game is forgotten here once even its latest record is so old
that it must have ended and been evicted (docs/domain.md, Time): until then a replay
that gives the game every clock record of its partition decides what the server did.
"""

from bytewax.operators import StatefulBatchLogic

from dataflows.records import Decoded
from domain.models import Tick
from domain.timeouts import Limits


class RosterLogic(StatefulBatchLogic[Decoded, tuple[str, Decoded], dict[str, int]]):
    """One partition's games (by key, with their latest record's time); routes records to them."""

    def __init__(self, seen: dict[str, int], forget_ms: int) -> None:
        self._seen = seen
        self._forget_ms = forget_ms

    @classmethod
    def builder(cls, limits: Limits, resume: dict[str, int] | None) -> "RosterLogic":
        return cls(dict(resume or {}), limits.idle_ms + limits.evict_ms)

    def on_batch(self, values: list[Decoded]) -> tuple[list[tuple[str, Decoded]], bool]:
        """Each action to its game; each clock record to every game of the partition."""
        out: list[tuple[str, Decoded]] = []
        seen = self._seen
        for decoded in values:
            record, now = decoded.action, decoded.source.timestamp
            if type(record) is Tick:
                out.extend((key, decoded) for key in seen)
                self._forget(now)
                continue
            key = str(record.game_id)  # type: ignore[union-attr]
            if seen.get(key, now) <= now:
                seen[key] = now
            out.append((key, decoded))
        return out, False

    def _forget(self, now: int) -> None:
        """Drop the games whose latest record is old enough that they have been evicted."""
        gone = [key for key, last in self._seen.items() if now - last >= self._forget_ms]
        for key in gone:
            del self._seen[key]

    def snapshot(self) -> dict[str, int]:
        return dict(self._seen)
