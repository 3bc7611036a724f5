"""Offset gaps in what a consumer reads: a batch the broker has not finished writing, or a real hole.

Tansu 0.6 (the embedded broker) reserves a batch's offsets by moving the partition's
high watermark first and stores the batch afterwards. While two producers append to
one partition, a fetch can land between the two steps: it lists the batches below the
watermark, finds the later producer's batch but not yet the earlier one's, and
librdkafka moves on past the missing offsets. The batch is in the log a moment later;
a consumer that read on never sees it (docs/reliability.md measures how often). On
`actions`, which every client writes, that would be an action silently never applied.

Kafka's own offsets are contiguous on a topic like `actions` (no compaction, no
transactions), so a gap there means the broker is still writing. `GapGuard` tells the
source to read again from the first missing offset until the gap fills; a gap that is
still there after `grace_s` is real (compaction, transaction markers, a write the
broker lost) and is read past, once, with a warning. Pure bookkeeping: the clock is
passed in, the reader does the seeking (the dataflow's source, and a replay of a game).
"""

from enum import Enum


class Verdict(Enum):
    DELIVER = "deliver"  # the next offset, or a gap given up on: hand the message on
    REREAD = "reread"  # a gap: drop this message, seek back to `next_offset` and fetch again
    DROP = "drop"  # already delivered (fetched before a seek took effect)


class GapGuard:
    """Each partition's next expected offset, and how long a gap before it has been open."""

    def __init__(self, grace_s: float = 1.0) -> None:
        self.grace_s = grace_s
        self._next: dict[int, int] = {}
        self._open_since: dict[int, tuple[int, float]] = {}  # partition -> (missing from, since)
        self.rereads = 0  # gaps that made the source fetch again
        self.read_past: list[tuple[int, int, int]] = []  # (partition, first missing, found)

    def expect(self, partition: int, offset: int) -> None:
        """Reading `partition` starts at `offset`."""
        self._next[partition] = offset
        self._open_since.pop(partition, None)

    def next_offset(self, partition: int) -> int:
        return self._next[partition]

    def admit(self, partition: int, offset: int, now: float) -> Verdict:
        """What to do with the message at `offset` of `partition`, read at time `now`."""
        expected = self._next[partition]
        if offset == expected:
            return self._advance(partition, offset)
        if offset < expected:
            return Verdict.DROP
        since = self._open_since.get(partition)
        if since is None or since[0] != expected:
            self._open_since[partition] = (expected, now)
            self.rereads += 1
            return Verdict.REREAD
        if now - since[1] < self.grace_s:
            self.rereads += 1
            return Verdict.REREAD
        self.read_past.append((partition, expected, offset))
        return self._advance(partition, offset)

    def _advance(self, partition: int, offset: int) -> Verdict:
        self._next[partition] = offset + 1
        self._open_since.pop(partition, None)
        return Verdict.DELIVER
