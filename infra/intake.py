"""Which messages of `actions` are actions of a game: one rule for the dataflow and every replay.

The dataflow dead-letters what this refuses and applies the rest; a replay of the log
must skip exactly the same messages, so both call `admitted_record`.
"""

from domain.models import Action, Tick
from domain.wire import InvalidMessage, decode_record
from infra.kafka import partition_for


class NotAdmitted(ValueError):
    """A message the dataflow sends to the dead letters: `reason` as its header says, `detail` why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def admitted_record(
    value: bytes | None, partition: int, max_bytes: int, partitions: int
) -> Action | Tick:
    """The action or clock record in a message read from partition `partition` of `actions`, or `NotAdmitted`.

    An action must sit on its game's partition (g mod P): a game's actions are applied,
    and replayed, in the order of one partition, or replay after a crash would differ.
    A clock record (`{"type": "tick"}`) belongs to every game, so to any partition.
    """
    try:
        record = decode_record(value, max_bytes)
    except InvalidMessage as err:
        raise NotAdmitted(err.reason, err.detail) from None
    if isinstance(record, Tick):
        return record
    expected = partition_for(record.game_id, partitions)
    if partition != expected:
        detail = f"game {record.game_id} belongs on partition {expected}, not {partition}"
        raise NotAdmitted("wrong_partition", detail)
    return record
