"""A game rebuilt from the `actions` log with the domain's rules: every state the dataflow wrote.

The log is the source of truth: the dataflow applies the records of a game's partition
(its actions and the clock records), in offset order, at their log times, with
`domain.lifecycle`; a replay hands the same records to the same function. Reading goes
through infra/history.py (offset 0, nothing skipped, a trimmed log refused); which
messages count goes through infra/intake.py, the dataflow's own rule.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass

from domain.lifecycle import replay as domain_replay
from domain.lifecycle import started
from domain.models import Action, GameState, Tick
from domain.wire import encode_state
from infra.history import Record, read_log
from infra.intake import NotAdmitted, admitted_record
from infra.kafka import partition_for
from infra.settings import Settings


class NotInLog(LookupError):
    """The game's partition of `actions` holds no action of it."""


class NoSuchVersion(LookupError):
    """A version the game never reached (or a negative one)."""


class ReplayFailed(RuntimeError):
    """The rules raised on a record: the dataflow dead-lettered it, a replay cannot go on."""


@dataclass(frozen=True)
class Step:
    """A state the server wrote, and the record of `actions` that made it."""

    offset: int
    timestamp_ms: int
    state: GameState

    @property
    def version(self) -> int:
        return self.state.version


@dataclass(frozen=True)
class Replay:
    """A game folded from its log: `steps[v - 1]` holds version v; version 0 is the new game."""

    game_id: int
    partition: int
    read: int  # messages of the partition read (every game's)
    steps: tuple[Step, ...]
    read_s: float = 0.0
    fold_s: float = 0.0

    @property
    def latest(self) -> int:
        return len(self.steps)

    def state(self, version: int) -> GameState:
        """The state at `version`, or `NoSuchVersion` naming the versions there are."""
        if not 0 <= version <= self.latest:
            raise NoSuchVersion(
                f"game {self.game_id} has no version {version}: its log holds versions "
                f"0 (before the first action) to {self.latest}"
            )
        if version == 0:
            return started(self.game_id, self.steps[0].timestamp_ms).state()
        return self.steps[version - 1].state

    def encoded(self) -> list[bytes]:
        """Each version's wire JSON, 1 to latest: the bytes the dataflow writes."""
        return [encode_state(step.state) for step in self.steps]


def replay(settings: Settings, game_id: int) -> Replay:
    """Game `game_id` rebuilt from partition g mod P of `actions`, read from offset 0 now.

    Raises `NotInLog` for a game without actions, and what `read_log` raises
    (`LogTrimmed`, `LogUnavailable`).
    """
    partition = partition_for(game_id, settings.partitions)
    began = time.perf_counter()
    records = read_log(settings, settings.actions_topic, partition)
    read_s = time.perf_counter() - began
    return fold_log(game_id, partition, records, settings, read_s)


def fold_log(
    game_id: int,
    partition: int,
    records: list[Record],
    settings: Settings,
    read_s: float = 0.0,
) -> Replay:
    """The states the dataflow writes for the game, from the records of its partition in order.

    What reaches the domain's `replay` is what the dataflow applies: the records
    `admitted_record` admits, the game's own actions and every clock record, each with
    the record's timestamp as its log time.
    """
    began = time.perf_counter()
    max_bytes, partitions = settings.max_action_bytes, settings.partitions
    last: list[Record] = []  # the record handed on last: the one that made the next state

    def inputs() -> Iterator[tuple[Action | Tick, int]]:
        for record in records:
            try:
                item = admitted_record(record.value, partition, max_bytes, partitions)
            except NotAdmitted:
                continue  # a dead letter for the dataflow too
            if isinstance(item, Tick) or item.game_id == game_id:
                last[:] = [record]
                yield item, record.timestamp_ms

    steps: list[Step] = []
    try:
        for state in domain_replay(game_id, inputs(), settings.limits, settings.secret_key):
            steps.append(Step(last[0].offset, last[0].timestamp_ms, state))
    except Exception as err:  # the dataflow dead-letters such a record (`rules_error`)
        where = f"offset {last[0].offset}" if last else "the start"
        raise ReplayFailed(
            f"game {game_id}: the rules failed at {where} of {settings.actions_topic}"
            f"[{partition}]: {type(err).__name__}: {err}"
        ) from err
    if not steps:
        raise NotInLog(
            f"game {game_id}: no action of it in {settings.actions_topic}[{partition}] "
            f"({len(records)} messages read)"
        )
    return Replay(
        game_id, partition, len(records), tuple(steps), read_s, time.perf_counter() - began
    )
