"""Latency: one player in a closed loop (send an action, wait for its state), idle and under load.

The limit is a raw round trip on the same broker: produce a message, read it back
with the same consumer settings. Background load comes from a separate process that
produces real actions at a fixed rate to other games (`bench.loadgen`: lighter than the
bots, so the load generator does not itself starve the 2 cores).

Under load the limit is taken on the loaded partition itself (the measured game's
partition of `actions`, whose raw messages the dataflow dead-letters), alternating with
the game's round trips: the embedded broker lists every record batch of a partition on
each fetch, so it slows as the load piles up batches, and both must see the same pile.
"""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from confluent_kafka import Producer

from bench.workload import FlowProcess, end_offsets_reader
from dataflows import launch
from domain.models import Move
from domain.wire import encode_action
from infra.kafka import game_key, partition_for, producer_config
from infra.settings import Settings

PLAYER_GAME = 0  # the measured player's game; background load uses games 1..


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
    partition = partition_for(PLAYER_GAME, settings.partitions)
    producer = Producer(producer_config(settings))
    consumer = end_offsets_reader(settings, settings.games_topic, partition)
    prefix = uuid.uuid4().hex[:6]
    latencies: list[float] = []
    try:
        _warm_up(consumer)
        stop_at = time.perf_counter() + budget_s
        for i in range(count):
            if time.perf_counter() > stop_at:
                break
            action_id = f"{prefix}-{i}"
            move = Move(
                game_id=PLAYER_GAME,
                player="A1",
                direction="right" if i % 2 == 0 else "left",
                action_id=action_id,
            )
            value, needle = encode_action(move), action_id.encode()
            sent = time.perf_counter()
            producer.produce(
                settings.actions_topic, value, game_key(PLAYER_GAME), partition=partition
            )
            producer.poll(0)
            _wait_for(consumer, needle, sent + timeout_s, strict)
            latencies.append((time.perf_counter() - sent) * 1000)  # an unanswered one counts whole
    finally:
        consumer.close()
        producer.flush(10)
    return latencies


def raw_round_trip(
    settings: Settings,
    count: int,
    timeout_s: float = 10.0,
    topic: str | None = None,
    partition: int = 0,
) -> list[float]:
    """The limit: produce one message to a partition and read it back, `count` times, in ms.

    By default on the (idle) dead-letter topic; a message unanswered in `timeout_s`
    counts as `timeout_s`, as in `closed_loop`.
    """
    topic = topic or settings.dlq_topic
    producer = Producer(producer_config(settings))
    consumer = end_offsets_reader(settings, topic, partition)
    latencies: list[float] = []
    try:
        _warm_up(consumer)
        for i in range(count):
            needle = f"raw-{i}".encode()
            sent = time.perf_counter()
            producer.produce(topic, needle, partition=partition)
            producer.poll(0)
            _wait_for(consumer, needle, sent + timeout_s, strict=False)
            latencies.append((time.perf_counter() - sent) * 1000)
    finally:
        consumer.close()
        producer.flush(10)
    return latencies


def loaded_round_trips(
    settings: Settings, count: int, chunk: int = 100, budget_s: float = 120.0
) -> tuple[list[float], list[float]]:
    """The player's round trips and raw ones on its own loaded partition, `chunk` at a time each.

    Alternating keeps both at the same age of the load; after `budget_s` both stop short.
    """
    game: list[float] = []
    raw: list[float] = []
    partition = partition_for(PLAYER_GAME, settings.partitions)
    stop_at = time.perf_counter() + budget_s
    while len(game) < count and time.perf_counter() < stop_at:
        left = stop_at - time.perf_counter()
        game += closed_loop(settings, min(chunk, count - len(game)), budget_s=left / 2)
        raw += raw_round_trip(settings, chunk, topic=settings.actions_topic, partition=partition)
    return game, raw


def _warm_up(consumer: object) -> None:
    """Let the assignment settle so the first round trip does not include it."""
    for _ in range(5):
        consumer.consume(100, 0.1)  # type: ignore[attr-defined]


def _wait_for(consumer: object, needle: bytes, deadline: float, strict: bool = True) -> None:
    """Until a message containing `needle` arrives; `poll` returns as soon as one message does."""
    while time.perf_counter() < deadline:
        msg = consumer.poll(0.5)  # type: ignore[attr-defined]
        if msg is not None and msg.error() is None and needle in (msg.value() or b""):
            return
    if strict:
        raise TimeoutError(f"no answer containing {needle!r}")


def wait_first_state(flow: FlowProcess, settings: Settings, timeout_s: float = 60.0) -> None:
    """Send a move in game 0 until its state comes back (the flow is then running)."""
    closed = time.monotonic() + timeout_s
    while True:
        flow.check()
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
