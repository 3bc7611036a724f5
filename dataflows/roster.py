"""The games of each partition of `actions`, so clock records reach the games they concern.

Bytewax keeps state per key, and the game step is keyed by game: a clock record,
written once to a partition, has no game. This step, keyed by partition, sees every
record of its partition in log order, remembers which games have had one and when
their latest was, passes each action on to its game, and hands a clock record to each
game that has just been quiet past one of its quiet marks (`domain.lifecycle`), in the
same order. After its last mark a game is forgotten here, until its next record: by
then it has ended and been evicted, or its next record brings it back. A replay that
applies the same rule (`domain.lifecycle.replay`) decides what the server did.
"""

from bytewax.operators import StatefulBatchLogic

from dataflows.records import Decoded
from domain.lifecycle import marks_passed, quiet_marks
from domain.models import Tick
from domain.timeouts import Limits

# game key -> (its latest record's time, how many quiet marks it has passed since)
Seen = dict[str, tuple[int, int]]


class RosterLogic(StatefulBatchLogic[list[Decoded], tuple[str, list[Decoded]], Seen]):
    """One partition's games; routes each action to its game and clock records to the quiet ones.

    Takes batches of a partition's records and emits one batch per game, the game's
    records in log order: one item per game a batch rather than one per record.
    """

    def __init__(self, seen: Seen, marks: tuple[int, ...]) -> None:
        self._seen = seen
        self._marks = marks

    @classmethod
    def builder(cls, limits: Limits, resume: Seen | None) -> "RosterLogic":
        return cls(dict(resume or {}), quiet_marks(limits))

    def on_batch(self, values: list[list[Decoded]]) -> tuple[list[tuple[str, list[Decoded]]], bool]:
        """Each action to its game; each clock record to the games it wakes."""
        games: dict[str, list[Decoded]] = {}
        seen = self._seen
        for batch in values:
            for decoded in batch:
                record, now = decoded.action, decoded.source.timestamp
                if type(record) is Tick:
                    for key in self._woken(now):
                        games.setdefault(key, []).append(decoded)
                    continue
                key = str(record.game_id)  # type: ignore[union-attr]
                latest = seen.get(key)
                seen[key] = (now if latest is None or latest[0] < now else latest[0], 0)
                mine = games.get(key)
                if mine is None:
                    games[key] = [decoded]
                else:
                    mine.append(decoded)
        return list(games.items()), False

    def _woken(self, now: int) -> list[str]:
        """The games a clock record at `now` reaches; those past their last mark are forgotten."""
        marks, seen = self._marks, self._seen
        woken: list[str] = []
        for key, (latest, passed) in seen.items():
            reached = marks_passed(now - latest, marks)
            if reached > passed:
                woken.append(key)
                seen[key] = (latest, reached)
        for key in woken:
            if seen[key][1] == len(marks):
                del seen[key]
        return woken

    def snapshot(self) -> Seen:
        return dict(self._seen)
