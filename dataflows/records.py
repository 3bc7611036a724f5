"""What travels between the dataflow's steps and its Kafka edges: plain, picklable records.

The source emits `Inbound` (or a `DeadLetter` for a consumer error); the sink takes
`Outbound`. Nothing here imports Kafka, so tests feed these through bytewax's
testing source and sink.

Each action makes three of them, so they are named tuples: built in a third of the time
of frozen dataclasses (which set each field through `object.__setattr__`), as immutable,
and they pickle as plain tuples. Between processes (`-i/-a`) bytewax pickles every item
that changes worker, and most do (a game's owner is chosen by hashing its id, not by
partition), so a `Decoded` pickles as its source message only, decoded again on
arrival: 2 us instead of pickling a pydantic model (about 20 us).
"""

from typing import NamedTuple

from domain.models import Action, Tick
from domain.wire import decode_record

# Header names of a dead letter on `actions.dlq` (the value is the original bytes, untouched).
REASON_HEADER = "moba.reason"
DETAIL_HEADER = "moba.detail"
SOURCE_HEADER = "moba.source"
TRUNCATED_HEADER = "moba.truncated"  # present only when a huge key or value was cut


class Inbound(NamedTuple):
    """One message read from `actions`: where it came from, its raw bytes, and its time.

    `timestamp` is the record's Kafka timestamp in ms (the broker's LogAppendTime on
    `actions`): the only time the rules ever see (docs/domain.md).
    """

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int = 0


class Decoded(NamedTuple):
    """An action or clock record decoded from a message, with the message (its time; its bytes for the DLQ)."""

    action: Action | Tick
    source: Inbound

    def __reduce__(self) -> tuple[object, tuple[Inbound]]:
        return _decoded_again, (self.source,)


def _decoded_again(source: Inbound) -> Decoded:
    """The `Decoded` of a message that already decoded once (so it decodes the same way again)."""
    assert source.value is not None
    return Decoded(decode_record(source.value, len(source.value)), source)


class DeadLetter(NamedTuple):
    """A message that cannot be processed, with a short machine-readable reason."""

    source: Inbound | None
    reason: str
    detail: str

    @property
    def partition(self) -> int:
        return self.source.partition if self.source is not None else 0


class Outbound(NamedTuple):
    """A message to produce, on an explicit partition (never left to the key hash)."""

    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


class Final(NamedTuple):
    """An evicted game's final snapshot (domain/snapshots.py), for the archive of ended games."""

    game_id: int
    snapshot: bytes
