"""Crash safety under load: SIGKILL at random, SIGINT/SIGTERM, a frozen broker; nothing lost.

Shorter runs of `python -m bench.soak` (bench/soak.py, figures in docs/reliability.md).
The oracle is the pure fold; re-emitted (game, version) pairs must be byte-identical.
"""

import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from confluent_kafka import Producer

from bench.soak import (
    ActionFeed,
    Cluster,
    GamesLog,
    SoakReport,
    SourceWitness,
    explain_stall,
    read_partition,
    run_soak,
    verify,
)
from bench.workload import by_game, fresh_settings, realistic_games
from domain.rules import new_game, next_state
from domain.wire import decode_state, encode_state
from infra.broker import EmbeddedBroker, free_port
from infra.kafka import partition_for, producer_config
from infra.settings import Settings
from tests.kafka_helpers import produce_actions, produce_raw

pytestmark = pytest.mark.slow


def test_sigkill_at_random_four_times_with_four_workers(settings, tmp_path) -> None:
    """Four producers feed, as players' clients do: each partition has several writers."""
    report = run_soak(
        settings,
        tmp_path,
        games=60,
        actions=6000,
        kills=4,
        workers=4,
        seed=11,
        rate=170,
        writers=4,
    )

    print(report.summary())
    assert report.kills == 4
    assert report.distinct_states == 6000
    assert report.witness_read == 6000  # a live source beside it read the log as it holds
    # a kill after the feed ended and the last epoch committed leaves nothing to replay
    assert report.resume_s


def test_sigkill_at_random_twice_with_two_processes_killed_in_turn(settings, tmp_path) -> None:
    report = run_soak(
        settings,
        tmp_path,
        games=40,
        actions=3000,
        kills=2,
        workers=2,
        processes=2,
        seed=12,
        kill_mode="in-turn",
    )

    print(report.summary())
    assert report.kills == 2
    assert report.distinct_states == 3000


def wait_for(condition, log: GamesLog, cluster: Cluster, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not reached in {timeout_s}s"
        cluster.raise_if_exited()
        log.poll()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_mid_stream_loses_nothing(settings, tmp_path, stop_signal) -> None:
    script = realistic_games(30, 2000, seed=int(stop_signal))
    games = by_game(script)
    final = {g: len(a) for g, a in games.items()}
    log = GamesLog(settings)
    cluster = Cluster(settings, tmp_path, workers=4, processes=1)
    feed = ActionFeed(settings, script, rate=400).start()
    try:
        cluster.start()
        wait_for(lambda: len(log.messages) >= 300, log, cluster)
        flow = cluster.running[0]
        flow.process.send_signal(stop_signal)  # as `kill -INT`/`kill -TERM` of the dataflow pid
        flow.process.wait(30)
        cluster.running = []
        cluster.start()
        wait_for(lambda: feed.done() and log.reached(final), log, cluster)
    finally:
        feed.stop()
        cluster.kill()
        log.close()

    report = SoakReport(games=30, actions=2000, workers=4, processes=1)
    verify(games, log.messages, report)
    assert report.distinct_states == 2000


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of this test's own: freezing the session one would stall every other test."""
    with EmbeddedBroker(port=free_port(), log_path=tmp_path / "tansu.log") as running:
        yield running


def test_a_frozen_broker_stalls_everything_and_then_everything_resumes(
    own_broker, tmp_path
) -> None:
    settings: Settings = fresh_settings(own_broker.bootstrap_servers, tmp_path, partitions=4)
    script = realistic_games(40, 3000, seed=5)
    games = by_game(script)
    final = {g: len(a) for g, a in games.items()}
    log = GamesLog(settings)
    cluster = Cluster(settings, tmp_path, workers=2, processes=1)
    feed = ActionFeed(settings, script, rate=300).start()
    try:
        cluster.start()
        pid = cluster.pids()
        wait_for(lambda: len(log.messages) >= 500, log, cluster)
        own_broker.pause()
        frozen_until = time.monotonic() + 6.0
        try:
            while time.monotonic() < frozen_until:  # the outage lasts six seconds
                cluster.raise_if_exited()
                log.poll(0.2)
        finally:
            own_broker.resume()
        stalled_at = len(log.messages)
        wait_for(lambda: feed.done() and log.reached(final), log, cluster, timeout_s=180)
        assert cluster.pids() == pid, "the dataflow restarted"
    finally:
        feed.stop()
        cluster.kill()
        log.close()

    assert len(log.messages) > stalled_at
    read: dict[int, list[bytes]] = {}
    for msg in log.messages:
        read.setdefault(msg.game_id, []).append(msg.value)
    assert set(read) == set(games)
    for game, values in read.items():  # in order, once each: nothing lost, reordered or doubled
        state = new_game(game)
        assert len(values) == final[game], game
        for action, value in zip(games[game], values, strict=True):
            state = next_state(state, action)
            assert decode_state(value) == state, (game, state.version)


def test_a_stall_is_explained_by_the_action_not_applied(settings) -> None:
    """The explanation names the offset of the first action whose state is not on `games`,
    and says whether a live reader (the witness) got what the log holds."""
    game = 7
    actions = realistic_games(1, 6, seed=3, first_id=game)
    witness = SourceWitness(settings).start()
    partition = partition_for(game, settings.partitions)
    produce_raw(settings, [(partition, b"not an action")])  # offset 0
    produce_actions(settings, actions)  # offsets 1 to 6
    producer = Producer(producer_config(settings))
    state = new_game(game)
    for version, action in enumerate(actions, start=1):
        state = next_state(state, action)
        if version != 4:  # as if the action at offset 4 had been lost
            producer.produce(settings.games_topic, encode_state(state), partition=partition)
    assert producer.flush(30) == 0
    witness.catch_up(7)

    explanation = explain_stall(settings, {game: 6}, witness)

    assert "7 messages, offsets 0 to 6, holes none, 1 not actions" in explanation
    assert "first unapplied action (offset) per short game: {7: 4}" in explanation
    assert f"actions.dlq[{partition}] holds 0" in explanation
    assert "the witness read the same 7 messages live" in explanation
    logged = read_partition(settings, settings.actions_topic, partition)
    tampered = [*logged[:3], replace(logged[3], value=b"other bytes"), *logged[5:]]
    assert witness.disagreement(partition, tampered) == (
        "the witness read 7 messages live: 0 the log holds it never got [], "
        "1 the log does not hold [4], 1 with other bytes [3]"
    )
