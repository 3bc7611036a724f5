"""Start-up, recovery after kill -9, and memory with many live games, each beside its limit.

Limits: the embedded broker alone starting (for `moba up`); a bare Python process that
reads one message and writes it back (for the dataflow's first state and its resume);
the dataflow's own RSS with a single game (for memory with 10,000).
"""

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from bench.workload import (
    Counter,
    end_offsets_reader,
    joins,
    produce_all,
    records,
    rss_bytes,
    settle,
)
from dataflows import launch
from dataflows.process import Process
from domain.models import Join
from domain.wire import encode_action
from infra.broker import EmbeddedBroker, free_port
from infra.kafka import game_key, producer_config
from infra.settings import Settings


def broker_start_s(root: Path) -> float:
    """The limit for `moba up`: the embedded broker alone, from spawn until it answers."""
    started = time.monotonic()
    broker = EmbeddedBroker(port=free_port(), tied=True, log_path=root / "broker-alone.log").start()
    elapsed = time.monotonic() - started
    broker.stop()
    return elapsed


def up_s(root: Path, moba: list[str], timeout_s: float = 60.0) -> float:
    """`moba up` (its own embedded broker) from spawn until a produced action is acknowledged."""
    settings = Settings(bootstrap_servers=f"127.0.0.1:{free_port()}", data_dir=root / "up")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOBA_")}
    env.update(settings.as_env())
    up = Process.start("moba up", [*moba, "up"], root / "up.log", env=env)
    try:
        _wait_accepts(settings, up.started_at + timeout_s, up)
        return time.monotonic() - up.started_at
    finally:
        up.stop(20)


def _wait_accepts(settings: Settings, deadline: float, up: Process) -> None:
    """Poll until `actions` exists and a join produced to it is acknowledged."""
    quiet = {"logger": _quiet(), "reconnect.backoff.max.ms": 50, "reconnect.backoff.ms": 10}
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers, **quiet})
    while True:
        up.raise_if_exited()
        if time.monotonic() > deadline:
            raise TimeoutError("moba up never accepted an action")
        try:
            topics = admin.list_topics(timeout=0.2).topics
        except Exception:
            continue
        if settings.actions_topic in topics:
            break
    producer = Producer(producer_config(settings, **quiet))
    join = Join(game_id=0, player="A1", action_id="up")
    producer.produce(settings.actions_topic, encode_action(join), game_key(0), partition=0)
    if producer.flush(max(0.1, deadline - time.monotonic())) != 0:
        raise TimeoutError("moba up never acknowledged an action")


def _quiet() -> object:
    import logging

    log = logging.getLogger("moba.bench.probe")  # refused connects are expected until ready
    log.addHandler(logging.NullHandler())
    log.propagate = False
    return log


BARE = textwrap.dedent(
    """
    import sys
    from confluent_kafka import Consumer, Producer, TopicPartition
    servers, source, target = sys.argv[1:4]
    consumer = Consumer({"bootstrap.servers": servers, "group.id": "bare",
                         "fetch.wait.max.ms": 10, "enable.auto.commit": False})
    consumer.assign([TopicPartition(source, 0, 0)])
    producer = Producer({"bootstrap.servers": servers, "linger.ms": 0})
    while True:
        msg = consumer.poll(1)
        if msg is not None and msg.error() is None:
            producer.produce(target, msg.value(), partition=0)
            producer.flush(10)
            break
    """
)


def bare_first_message_s(settings: Settings, timeout_s: float = 60.0) -> float:
    """The limit for a first state: a fresh Python process that reads one action and writes it out.

    Leaves a join of game 0 waiting on `actions` for `first_state`.
    """
    produce_all(settings, settings.actions_topic, records(joins(range(1)), settings.partitions))
    topic = settings.dlq_topic  # empty, distinct from `games`
    with Counter(settings, topic) as counter:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-c", BARE, settings.bootstrap_servers, settings.actions_topic, topic]
        )
        try:
            counter.until(1, timeout_s)
            return time.monotonic() - started
        finally:
            process.kill()
            process.wait()


@dataclass
class FirstState:
    seconds: float
    rss_mb: float  # the dataflow's RSS with one game: the memory limit's baseline


def first_state(settings: Settings, root: Path, timeout_s: float = 60.0) -> FirstState:
    """Dataflow start until the state of an action already waiting on `actions` is on `games`."""
    with Counter(settings, settings.games_topic) as counter:
        counter.settle()  # the reader's own start is not the dataflow's
        flow = launch.start(settings, root / "first-state.log")
        try:
            counter.until(1, timeout_s, alive=flow.raise_if_exited)
            seconds = time.monotonic() - flow.started_at
            return FirstState(seconds, rss_bytes(flow.pid) / 2**20)
        finally:
            flow.kill()


@dataclass
class LiveGames:
    resume_s: float
    rss_mb: float


def live_games(settings: Settings, root: Path, games: int, timeout_s: float = 300.0) -> LiveGames:
    """`games` live games: the dataflow's RSS, then kill -9, restart, time to the first new state."""
    produce_all(settings, settings.actions_topic, records(joins(range(games)), settings.partitions))
    with Counter(settings, settings.games_topic) as counter:
        flow = launch.start(settings, root / "live.log")
        try:
            counter.until(games, timeout_s, alive=flow.raise_if_exited)
            _wait_snapshot(settings, games, time.monotonic() + timeout_s)
            rss_mb = rss_bytes(flow.pid) / 2**20
        finally:
            flow.kill()
    # The first action after the crash: its state is the first new one.
    partition = 1 % settings.partitions
    reader = end_offsets_reader(settings, settings.games_topic, partition)
    try:
        settle(reader)
        move = Join(game_id=1, player="B1", action_id="after-crash")
        produce_all(
            settings,
            settings.actions_topic,
            [(partition, game_key(1), encode_action(move))],
        )
        restarted = launch.start(settings, root / "live-restarted.log")
        try:
            deadline = restarted.started_at + timeout_s
            while time.monotonic() < deadline:
                restarted.raise_if_exited()
                msg = reader.poll(0.05)  # returns as soon as one message arrives
                if msg is not None and msg.error() is None and b"after-crash" in msg.value():
                    return LiveGames(time.monotonic() - restarted.started_at, rss_mb)
            raise TimeoutError("no new state after the restart")
        finally:
            restarted.kill()
    finally:
        reader.close()


def _wait_snapshot(settings: Settings, count: int, deadline: float) -> None:
    """Until a restart would restore all `count` games (the reader's view: committed epochs only)."""
    from api.store import GameStore, NoStore, UnknownGame

    while True:
        try:
            with GameStore.of(settings) as store:
                if all(_known(store, g, UnknownGame) for g in (0, count - 1)):
                    return
        except NoStore:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the recovery store never caught up")
        time.sleep(0.2)  # the store is a file; there is nothing to block on


def _known(store: object, game_id: int, unknown: type[Exception]) -> bool:
    try:
        store.game(game_id)  # type: ignore[attr-defined]
        return True
    except unknown:
        return False
