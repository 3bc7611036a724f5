"""Does `games` hold, byte for byte, the states a replay of the log rebuilds?

The dataflow writes every state of game g to partition g mod P of `games`, keyed
str(g). After a crash it may write some again: the same version with the very same
bytes, which is no mismatch. `compare` is pure; `audit` reads `games` first and the
log second, so every state read has its action in the log.
"""

import json
from dataclasses import dataclass, field

from infra.history import Record, read_kept
from infra.kafka import game_key, partition_for
from infra.replay import Replay, replay
from infra.settings import Settings


@dataclass(frozen=True)
class Mismatch:
    """The first version where `games` and the replay disagree, and how."""

    version: int
    why: str
    recorded: bytes | None
    replayed: bytes | None

    def differences(self) -> list[str]:
        """`path: recorded X, replayed Y` for each field that differs (the JSON compared)."""
        return _differences(_json(self.recorded), _json(self.replayed))


@dataclass
class Audit:
    game_id: int
    replayed: int  # versions rebuilt from the log
    recorded: int = 0  # states of the game read on `games`
    duplicates: int = 0  # of those, identical re-sends of a version already read
    missing_first: list[int] = field(default_factory=list)  # before the first kept (retention)
    missing_last: list[int] = field(default_factory=list)  # not written yet
    mismatch: Mismatch | None = None

    @property
    def ok(self) -> bool:
        return self.mismatch is None

    @property
    def matched(self) -> int:
        return self.recorded - self.duplicates

    def summary(self) -> str:
        verdict = (
            f"version {self.mismatch.version} differs: {self.mismatch.why}"
            if self.mismatch
            else "every state on games equals the replay, byte for byte"
        )
        lines = [
            f"game {self.game_id}: {self.replayed} versions replayed from the log; "
            f"{self.recorded} states on games ({self.duplicates} re-sent identically); {verdict}"
        ]
        if self.missing_first:
            lines.append(
                f"{_span(self.missing_first)} no longer on games "
                "(trimmed by its retention): not compared"
            )
        if self.missing_last:
            lines.append(
                f"{_span(self.missing_last)} not on games yet "
                "(the dataflow has not written them): not compared"
            )
        return "\n".join(lines)


def audit(settings: Settings, game_id: int) -> tuple[Audit, Replay]:
    """Game `game_id`'s states on `games` against its replay from `actions`."""
    partition = partition_for(game_id, settings.partitions)
    recorded = read_kept(settings, settings.games_topic, partition)
    rebuilt = replay(settings, game_id)
    return compare(game_id, rebuilt.encoded(), _of_game(recorded, game_id)), rebuilt


def compare(game_id: int, replayed: list[bytes], recorded: list[bytes]) -> Audit:
    """`recorded` (states read on `games`, in order) against `replayed[v - 1]`, version v.

    A version read twice must carry the same bytes both times; versions not on `games`
    are allowed only before the first one there (retention) and after the last (lag).
    """
    report = Audit(game_id, len(replayed))
    seen: dict[int, bytes] = {}
    mismatches: list[Mismatch] = []
    previous = 0
    for value in recorded:
        report.recorded += 1
        version = _version(value)
        if version is None:  # named by where it stands: after the state read before it
            why = f"a message keyed as this game's that is not a state, after version {previous}"
            mismatches.append(Mismatch(previous + 1, why, value, None))
            continue
        previous = version
        earlier = seen.get(version)
        if earlier is not None:
            report.duplicates += 1
            if earlier != value:
                why = "the dataflow wrote this version twice, with different bytes"
                mismatches.append(Mismatch(version, why, value, earlier))
            continue
        seen[version] = value
        if not 1 <= version <= len(replayed):
            why = f"games holds version {version}; the log explains versions 1 to {len(replayed)}"
            mismatches.append(Mismatch(version, why, value, None))
        elif value != replayed[version - 1]:
            mismatches.append(Mismatch(version, "the state differs", value, replayed[version - 1]))
    if seen:
        first, last = min(seen), max(seen)
        report.missing_first = list(range(1, min(first, len(replayed) + 1)))
        report.missing_last = list(range(last + 1, len(replayed) + 1))
        for version in range(first, min(last, len(replayed)) + 1):
            if version not in seen:
                why = "not on games, though versions before and after it are"
                mismatches.append(Mismatch(version, why, None, replayed[version - 1]))
    else:
        report.missing_last = list(range(1, len(replayed) + 1))
    if mismatches:
        report.mismatch = min(mismatches, key=lambda m: m.version)
    return report


def _of_game(records: list[Record], game_id: int) -> list[bytes]:
    key = game_key(game_id)
    return [r.value for r in records if r.key == key and r.value is not None]


def _version(value: bytes) -> int | None:
    try:
        version = json.loads(value).get("version")
    except (ValueError, AttributeError):
        return None
    return version if isinstance(version, int) else None


def _json(value: bytes | None) -> object:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value.decode(errors="replace")


def _differences(recorded: object, replayed: object, path: str = "") -> list[str]:
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        found = []
        for key in [*recorded, *(k for k in replayed if k not in recorded)]:
            where = f"{path}.{key}" if path else str(key)
            found += _differences(recorded.get(key), replayed.get(key), where)
        return found
    if recorded == replayed:
        return []
    return [f"{path or 'state'}: recorded {_shown(recorded)}, replayed {_shown(replayed)}"]


def _shown(value: object) -> str:
    return json.dumps(value) if value is not None else "(absent)"


def _span(versions: list[int]) -> str:
    """`version 4 is` or `versions 1 to 3 are`."""
    if len(versions) == 1:
        return f"version {versions[0]} is"
    return f"versions {versions[0]} to {versions[-1]} are"
