"""What travels between the dataflow's steps and its Kafka edges: plain, picklable records.

The source emits `Inbound` (or a `DeadLetter` for a consumer error); the sink takes
`Outbound`. Nothing here imports Kafka, so tests feed these through bytewax's
testing source and sink.
"""

from dataclasses import dataclass

from domain.models import Action

# Header names of a dead letter on `actions.dlq` (the value is the original bytes, untouched).
REASON_HEADER = "moba.reason"
DETAIL_HEADER = "moba.detail"
SOURCE_HEADER = "moba.source"
TRUNCATED_HEADER = "moba.truncated"  # present only when a huge key or value was cut


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message read from `actions`: where it came from and its raw bytes."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True, slots=True)
class Intent:
    """A decoded action, with the message it came from (for the dead-letter topic if it fails)."""

    action: Action
    source: Inbound


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that cannot be processed, with a short machine-readable reason."""

    source: Inbound | None
    reason: str
    detail: str

    @property
    def partition(self) -> int:
        return self.source.partition if self.source is not None else 0


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message to produce, on an explicit partition (never left to the key hash)."""

    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
