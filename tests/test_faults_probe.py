"""The broker probe of `moba up`: it times reads of each `games` partition's newest state and
warns once, with what to do, when every read of a while was slow."""

import time
from pathlib import Path

import pytest
from confluent_kafka import Producer

from domain.models import Join
from infra.kafka import game_key, produce_patiently
from infra.probe import BrokerProbe, degraded
from infra.settings import Settings
from tests.kafka_helpers import Reached, produce_actions, read_topic
from tests.up_process import UpProcess, up_settings


def test_a_broker_is_degraded_only_when_every_read_of_the_window_was_slow() -> None:
    assert degraded([1500.0] * 6, window=6, slow_ms=1000)
    assert not degraded([1500.0] * 5, window=6, slow_ms=1000), "not for a while yet"
    assert not degraded([1500.0] * 5 + [20.0], window=6, slow_ms=1000), "one fast read: fine"
    assert degraded([20.0] * 10 + [1500.0] * 6, window=6, slow_ms=1000)


def test_the_probe_times_real_reads_and_warns_once_with_advice(
    settings: Settings, run_dataflow
) -> None:
    run_dataflow()
    produce_actions(settings, [Join(game_id=g, player="A1", action_id=f"j{g}") for g in range(4)])
    read_topic(settings, settings.games_topic, Reached({g: 1 for g in range(4)}))
    warnings: list[str] = []
    probe = BrokerProbe(
        settings, warnings.append, advice="Restart it.", every_s=0.1, window=3, slow_ms=0.0
    ).start()
    try:
        deadline = time.monotonic() + 30
        while len(probe.reads_ms) < 8 and time.monotonic() < deadline:
            time.sleep(0.05)  # the poll's period
    finally:
        probe.stop()

    assert len(probe.reads_ms) >= 8 and all(0 < ms < 5000 for ms in probe.reads_ms)
    [warning] = warnings  # once, however long it stays slow
    assert warning.startswith("the embedded broker has slowed down: each of its last 3 reads")
    assert warning.endswith("Restart it.")


def test_the_probe_has_nothing_to_time_or_report_on_an_empty_topic(settings: Settings) -> None:
    warnings: list[str] = []
    probe = BrokerProbe(settings, warnings.append, advice="", every_s=0.05, window=1, slow_ms=0.0)
    probe.start()
    time.sleep(1.0)  # a second of probing an empty topic: there is nothing to wait for
    probe.stop()
    assert not probe.reads_ms and not warnings


def pile_up_batches(settings: Settings, count: int) -> None:
    """`count` one-message record batches on partition 0 of `games`, as hours of small writes leave."""
    producer = Producer(
        {"bootstrap.servers": settings.bootstrap_servers, "batch.num.messages": 1, "linger.ms": 0}
    )
    for n in range(count):
        produce_patiently(producer, settings.games_topic, b"x" * 100, game_key(n), 0)
    assert producer.flush(120) == 0


@pytest.mark.slow
def test_up_warns_once_with_what_to_do_when_its_tansu_broker_has_slowed_down(
    tmp_path: Path,
) -> None:
    """Tansu lists every batch of a partition on each fetch: at 30,000 of them every read
    takes over 10 s. Around 20,000 reads still swing between 20 ms and 10 s, so a warning
    that needs a whole window of slow reads may not come (noida reads either pile in
    under a millisecond)."""
    settings = up_settings(tmp_path / "data", partitions=1, embedded_broker="tansu")
    up = UpProcess(settings, tmp_path / "up.log", ("--no-api",))
    try:
        up.wait_for("Ctrl-C stops")
        pile_up_batches(settings, 30_000)
        up.wait_for("the embedded broker has slowed down", timeout_s=240)
    finally:
        up.stop()
    warning = next(line for line in up.console().splitlines() if "has slowed down" in line)
    assert "Restart moba up (this in-memory broker forgets every game when it stops)" in warning
    assert "or move to Apache Kafka: docs/deployment.md." in warning
