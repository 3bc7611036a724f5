"""The source reads every offset: a gap in a fetch is read again until it fills, or read past once real."""

import random
import time
from pathlib import Path

import pytest
from confluent_kafka import Producer

from bench.gaps import one_round
from bench.workload import fresh_settings
from dataflows.source import ActionsSource
from infra.broker import EmbeddedBroker
from infra.gaps import GapGuard, Verdict
from infra.kafka import consumer_config
from tests.kafka_helpers import produce_raw

DELIVER, REREAD, DROP = Verdict.DELIVER, Verdict.REREAD, Verdict.DROP


def test_contiguous_offsets_are_delivered_in_order() -> None:
    guard = GapGuard()
    guard.expect(0, 5)
    assert [guard.admit(0, offset, now=0.0) for offset in (5, 6, 7)] == [DELIVER] * 3
    assert guard.next_offset(0) == 8
    assert guard.rereads == 0


def test_a_gap_is_read_again_until_it_fills() -> None:
    guard = GapGuard(grace_s=1.0)
    guard.expect(0, 0)
    assert guard.admit(0, 0, now=0.0) is DELIVER
    assert guard.admit(0, 3, now=0.0) is REREAD  # offsets 1 and 2 not written yet
    assert guard.next_offset(0) == 1
    assert guard.admit(0, 3, now=0.5) is REREAD  # still not: within the grace
    assert [guard.admit(0, offset, now=0.6) for offset in (1, 2, 3)] == [DELIVER] * 3
    assert guard.rereads == 2
    assert guard.read_past == []


def test_a_gap_still_open_after_the_grace_is_read_past_once() -> None:
    guard = GapGuard(grace_s=1.0)
    guard.expect(0, 10)
    assert guard.admit(0, 12, now=0.0) is REREAD
    assert guard.admit(0, 12, now=1.0) is DELIVER
    assert guard.read_past == [(0, 10, 12)]
    assert guard.admit(0, 13, now=1.0) is DELIVER
    assert guard.admit(0, 20, now=1.0) is REREAD  # a new gap has a grace of its own


def test_a_message_before_the_expected_offset_is_dropped() -> None:
    guard = GapGuard()
    guard.expect(0, 4)
    assert guard.admit(0, 3, now=0.0) is DROP
    assert guard.next_offset(0) == 4


def test_partitions_are_independent() -> None:
    guard = GapGuard(grace_s=1.0)
    guard.expect(0, 0)
    guard.expect(1, 7)
    assert guard.admit(0, 2, now=0.0) is REREAD
    assert guard.admit(1, 7, now=0.0) is DELIVER
    assert guard.next_offset(0) == 0
    assert guard.next_offset(1) == 8


@pytest.mark.slow
def test_the_source_misses_nothing_that_concurrent_producers_write(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """Four producers on one partition of the real broker, the source following live."""
    settings = fresh_settings(broker.bootstrap_servers, tmp_path, partitions=1)
    result = one_round(settings, writers=4, messages=1500, rate=300)
    print(f"\n{result}")
    assert result.in_log == 6000
    assert result.source_missed == 0
    assert result.source_duplicates == 0
    assert result.source_out_of_order == 0


@pytest.mark.slow
def test_a_real_gap_is_read_past_after_the_grace_with_nothing_lost(
    broker: EmbeddedBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A committed transaction leaves its marker at an offset no consumer sees: a gap for good."""
    settings = fresh_settings(broker.bootstrap_servers, tmp_path, partitions=1)
    topic = settings.actions_topic
    transactional = Producer(
        {"bootstrap.servers": settings.bootstrap_servers, "transactional.id": topic}
    )
    transactional.init_transactions(30)
    transactional.begin_transaction()
    for i in range(3):
        transactional.produce(topic, f"t{i}".encode(), partition=0)
    transactional.commit_transaction(30)  # the marker takes offset 3
    produce_raw(settings, [(0, f"n{i}".encode()) for i in range(3)])

    source = ActionsSource(consumer_config(settings), topic, 1, gap_grace_s=0.3)
    part = source.build_part("gaps", "0", None)
    read: list[tuple[int, bytes]] = []
    started = time.monotonic()
    while len(read) < 6 and time.monotonic() - started < 30:
        read.extend((m.offset, m.value) for m in part.next_batch())
    waited = time.monotonic() - started

    assert read == [(0, b"t0"), (1, b"t1"), (2, b"t2"), (4, b"n0"), (5, b"n1"), (6, b"n2")]
    assert source.gap_rereads() >= 1
    assert waited >= 0.3  # read again for the grace before reading on
    assert part.snapshot() == 7
    assert "offsets 3 to 3 still missing after 0.3 s; reading on from 4" in caplog.text


class JumpyGuard(GapGuard):
    """A guard that, now and then, has the source seek back to the offset it expects anyway."""

    def __init__(self, grace_s: float) -> None:
        super().__init__(grace_s)
        self._rng = random.Random(7)
        self.forced = 0

    def admit(self, partition: int, offset: int, now: float) -> Verdict:
        if offset == self.next_offset(partition) and self._rng.random() < 0.05:
            self.forced += 1
            return Verdict.REREAD
        return super().admit(partition, offset, now)


@pytest.mark.slow
def test_reading_again_after_a_seek_loses_repeats_and_reorders_nothing(
    broker: EmbeddedBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-read path on the real broker, forced at random: every offset once, in order."""
    settings = fresh_settings(broker.bootstrap_servers, tmp_path, partitions=4)
    produce_raw(settings, [(i % 4, f"m{i}".encode()) for i in range(8000)])
    guards: list[JumpyGuard] = []

    def jumpy(grace_s: float) -> JumpyGuard:
        guards.append(JumpyGuard(grace_s))
        return guards[-1]

    monkeypatch.setattr("dataflows.source.GapGuard", jumpy)
    source = ActionsSource(consumer_config(settings), settings.actions_topic, 4)
    parts = {p: source.build_part("gaps", str(p), None) for p in range(4)}
    offsets: dict[int, list[int]] = {p: [] for p in parts}
    deadline = time.monotonic() + 60
    while sum(map(len, offsets.values())) < 8000 and time.monotonic() < deadline:
        for p, part in parts.items():
            offsets[p].extend(m.offset for m in part.next_batch())

    assert all(offsets[p] == list(range(2000)) for p in parts)
    assert sum(guard.forced for guard in guards) > 100
