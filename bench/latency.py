"""Latency: one player in a closed loop (send an action, wait for its state), idle and under load.

The limit is a raw round trip on the same broker: produce a message, read it back
with the same consumer settings. Background load comes from a separate process that
produces real actions at a fixed rate to other games (`bench.loadgen`: lighter than the
bots, so the load generator does not itself starve the 2 cores).

Under load the limit is taken on the loaded partition itself (the measured game's
partition of `actions`), alternating with the game's round trips: the embedded broker
lists every record batch of a partition on each fetch, so it slows as the load piles up
batches, and both must see the same pile. The dataflow dead-letters those raw messages,
so each also times the game's own path (two hops through the broker and the dataflow)
without the rules: the dead-letter round trip.
"""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from confluent_kafka import OFFSET_END, Consumer, Producer, TopicPartition

from bench.workload import end_offsets_reader, settle, tuned_consumer
from dataflows import launch
from dataflows.process import Process
from domain.models import Move
from domain.wire import encode_action
from infra.kafka import game_key, partition_for, produce_patiently, producer_config
from infra.settings import Settings

PLAYER_GAME = 0  # the measured player's game; background load uses games 1..


class _Player:
    """A1 of game 0 walking right and left: each move's bytes and the id its state echoes."""

    def __init__(self, settings: Settings) -> None:
        self.topic = settings.actions_topic
        self.partition = partition_for(PLAYER_GAME, settings.partitions)
        self._prefix = uuid.uuid4().hex[:6]
        self._moves = 0

    def next_move(self) -> tuple[bytes, bytes]:
        """(value, needle): the next move and what its state will contain."""
        action_id = f"{self._prefix}-{self._moves}"
        direction = "right" if self._moves % 2 == 0 else "left"
        self._moves += 1
        move = Move(game_id=PLAYER_GAME, player="A1", direction=direction, action_id=action_id)
        return encode_action(move), action_id.encode()


def closed_loop(
    settings: Settings,
    count: int,
    timeout_s: float = 10.0,
    strict: bool = False,
    budget_s: float = 120.0,
) -> list[float]:
    """Round trips in ms: A1 of game 0 walks right and left, each move waiting for its state.

    A move unanswered after `timeout_s` counts as `timeout_s` (or raises, if `strict`);
    after `budget_s` the loop stops with fewer than `count` samples (a growing backlog).
    """
    return loaded_round_trips(settings, count, 0, timeout_s, strict, budget_s).game


def raw_round_trip(
    settings: Settings,
    count: int,
    timeout_s: float = 10.0,
    topic: str | None = None,
    partition: int = 0,
    strict: bool = True,
    budget_s: float | None = None,
) -> list[float]:
    """The limit: produce one message and read it back, in ms.

    By default on the idle dead-letter topic; `topic` and `partition` name a loaded one
    (a raw message on `actions` is dead-lettered by the dataflow, harmlessly). Unless
    `strict`, a message not back after `timeout_s` counts as `timeout_s`; after
    `budget_s` it stops with fewer than `count` samples (a broker that slow).
    """
    topic = topic or settings.dlq_topic
    producer = Producer(producer_config(settings))
    consumer = end_offsets_reader(settings, topic, partition)
    trips: list[float] = []
    try:
        settle(consumer)
        stop_at = time.perf_counter() + (budget_s if budget_s is not None else float("inf"))
        for i in range(count):
            if trips and time.perf_counter() > stop_at:
                break
            needle = f"raw-{i}".encode()
            trips.append(
                _round_trip(producer, consumer, topic, partition, needle, needle, timeout_s, strict)
            )
        return trips
    finally:
        consumer.close()
        producer.flush(10)


@dataclass
class RoundTrips:
    """Round trips in ms: the player's, raw ones on its partition, and their dead letters'."""

    game: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    dead_letter: list[float] = field(default_factory=list)


def loaded_round_trips(
    settings: Settings,
    count: int,
    raw_every: int = 4,
    timeout_s: float = 10.0,
    strict: bool = False,
    budget_s: float = 120.0,
) -> RoundTrips:
    """`count` of the player's round trips and, after every `raw_every`th, a raw one (0: none).

    The raw one goes to the player's own partition of `actions` and is read back from
    there, so under load both wait on the same partition of the same broker at the same
    moment; then its dead letter is awaited on `actions.dlq`, where the dataflow puts it.
    One consumer reads all three partitions: on noida every consumer keeps fetching, at
    about half a core of its own and a third of the broker's (docs/brokers.md), and three
    would starve the dataflow being measured of the two cores they share.
    """
    player = _Player(settings)
    producer = Producer(producer_config(settings))
    games, actions, letters = settings.games_topic, player.topic, settings.dlq_topic
    reader = tuned_consumer(settings)
    reader.assign(
        [TopicPartition(t, player.partition, OFFSET_END) for t in (games, actions, letters)]
    )
    trips = RoundTrips()
    try:
        settle(reader)
        stop_at = time.perf_counter() + budget_s
        for i in range(count):
            if time.perf_counter() > stop_at:
                break
            value, needle = player.next_move()
            sent = _send(producer, actions, player.partition, value)
            arrived = _await(reader, {games: needle}, sent + timeout_s, strict)
            trips.game.append(_elapsed_ms(sent, arrived.get(games), timeout_s))
            if raw_every and i % raw_every == 0:
                needle = f"raw-{player.partition}-{i}".encode()
                sent = _send(producer, actions, player.partition, needle)
                arrived = _await(reader, {actions: needle, letters: needle}, sent + timeout_s)
                trips.raw.append(_elapsed_ms(sent, arrived.get(actions), timeout_s))
                trips.dead_letter.append(_elapsed_ms(sent, arrived.get(letters), timeout_s))
    finally:
        reader.close()
        producer.flush(10)
    return trips


def _send(producer: Producer, topic: str, partition: int, value: bytes) -> float:
    """Produce `value` to game 0's key on `partition`; the time it was sent (perf_counter)."""
    sent = time.perf_counter()
    producer.produce(topic, value, game_key(PLAYER_GAME), partition=partition)
    producer.poll(0)
    return sent


def _await(
    consumer: Consumer, wanted: dict[str, bytes], deadline: float, strict: bool = False
) -> dict[str, float]:
    """When each topic of `wanted` showed a message containing its needle (perf_counter).

    Polls until all have, or until `deadline` (then raises if `strict`); other messages
    (the load's) are read past.
    """
    arrived: dict[str, float] = {}
    while len(arrived) < len(wanted) and time.perf_counter() < deadline:
        msg = consumer.poll(0.5)
        if msg is None or msg.error() is not None:
            continue
        topic = msg.topic()
        needle = wanted.get(topic)
        if needle is not None and topic not in arrived and needle in (msg.value() or b""):
            arrived[topic] = time.perf_counter()
    if strict and len(arrived) < len(wanted):
        raise TimeoutError(f"no answer containing {list(wanted.values())!r}")
    return arrived


def _elapsed_ms(sent: float, arrived: float | None, timeout_s: float) -> float:
    """ms from `sent` to `arrived`; an answer that never came counts as the whole timeout."""
    return (timeout_s if arrived is None else arrived - sent) * 1000


def _round_trip(
    producer: Producer,
    reader: Consumer,
    topic: str,
    partition: int,
    value: bytes,
    needle: bytes,
    timeout_s: float,
    strict: bool = False,
) -> float:
    """Produce `value`, wait until `reader` sees `needle` on `topic`; ms (an unanswered one counts whole)."""
    sent = _send(producer, topic, partition, value)
    arrived = _await(reader, {topic: needle}, sent + timeout_s, strict)
    return _elapsed_ms(sent, arrived.get(topic), timeout_s)


def wait_first_state(flow: Process, settings: Settings, timeout_s: float = 60.0) -> None:
    """Send a move in game 0 until its state comes back (the flow is then running)."""
    closed = time.monotonic() + timeout_s
    while True:
        flow.raise_if_exited()
        try:
            closed_loop(settings, 1, timeout_s=2.0, strict=True)
            return
        except TimeoutError:
            if time.monotonic() > closed:
                raise


@contextmanager
def background_load(settings: Settings, rate: float, games: int = 200) -> Iterator[None]:
    """Real actions at `rate`/s to games 1..`games`, from another process, while the block runs."""
    argv = [sys.executable, "-m", "bench.loadgen", "--rate", str(rate), "--games", str(games)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOBA_")}
    process = subprocess.Popen(argv, env={**env, **settings.as_env()}, cwd=launch.REPO_ROOT)
    try:
        time.sleep(3.0)  # the generator's own start-up, then its rate settles before measuring
        if process.poll() is not None:
            raise RuntimeError(f"load generator exited with {process.returncode}")
        yield
    finally:
        process.terminate()
        process.wait(10)


def raw_with_stored_batches(
    settings: Settings, batches: int, partition: int, samples: int = 100, timeout_s: float = 30.0
) -> list[float]:
    """Raw round trips (ms) on `partition` of `actions` after it stores `batches` record batches.

    The embedded broker lists every stored batch of a partition on each fetch, so its
    round trip grows with what a partition holds: this shows by how much. Each filler
    message is its own batch (`batch.num.messages` 1), as when actions trickle in; the
    reader starts at the known end (Tansu's high watermark can be wrong). A message not
    back within `timeout_s` counts as `timeout_s`.
    """
    topic = settings.actions_topic
    single = Producer(producer_config(settings, **{"batch.num.messages": 1, "linger.ms": 0}))
    for i in range(batches):
        produce_patiently(single, topic, b"filler", None, partition)
        if i % 1000 == 999:
            single.flush(60)
    if single.flush(60) != 0:
        raise RuntimeError(f"{topic}: filler batches not acknowledged")
    producer = Producer(producer_config(settings))
    reader = tuned_consumer(settings)
    reader.assign([TopicPartition(topic, partition, batches)])
    try:
        settle(reader)
        return [
            _round_trip(producer, reader, topic, partition, n, n, timeout_s, strict=False)
            for n in (f"raw-{batches}-{i}".encode() for i in range(samples))
        ]
    finally:
        reader.close()
        producer.flush(10)


def main() -> None:
    """`python -m bench.latency`: the embedded broker's raw round trip by batches stored."""
    import argparse
    import tempfile
    from pathlib import Path

    from bench.report import percentile
    from bench.workload import fresh_settings
    from infra.broker import EmbeddedBroker, free_port

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--batches", type=int, nargs="+", default=[0, 1_000, 5_000, 20_000])
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="moba-latency-"))
    with EmbeddedBroker(port=free_port(), tied=True, log_path=root / "broker.log") as broker:
        settings = fresh_settings(broker.bootstrap_servers, root)
        print("| batches stored on the partition | raw round trip p50 (ms) | p99 (ms) |")
        print("| --- | --- | --- |")
        for partition, count in enumerate(args.batches):
            trips = raw_with_stored_batches(settings, count, partition, args.samples)
            print(f"| {count:,} | {percentile(trips, 50):.1f} | {percentile(trips, 99):.1f} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
