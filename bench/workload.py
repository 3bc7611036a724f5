"""What every measurement needs: fresh topics on the bench's broker, pre-encoded actions, counting readers, dataflow processes.

Messages are counted by reading them, never from high watermarks (Tansu's undercount).
"""

import os
import random
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import OFFSET_END, Consumer, Producer, TopicPartition

from dataflows import launch
from domain.models import Action, Join, Move, Throw
from domain.wire import encode_action
from infra.broker import free_port
from infra.kafka import (
    consumer_config,
    create_topics,
    game_key,
    partition_for,
    produce_patiently,
    producer_config,
)
from infra.settings import Settings

DIRECTIONS = ("up", "down", "left", "right")
PLAYERS = tuple(f"{team}{i}" for team in "AB" for i in range(1, 6))

Record = tuple[int, bytes, bytes]  # (partition, key, value) ready to produce


def fresh_settings(bootstrap_servers: str, root: Path, partitions: int = 10) -> Settings:
    """Settings on new topics of their own (and a new data dir), topics created."""
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        bootstrap_servers=bootstrap_servers,
        partitions=partitions,
        actions_topic=f"bench-actions-{suffix}",
        games_topic=f"bench-games-{suffix}",
        dlq_topic=f"bench-dlq-{suffix}",
        data_dir=root / suffix,
        snapshot_interval_s=1.0,
    )
    create_topics(settings)
    return settings


def game_actions(games: int, count: int, seed: int = 6, first_game: int = 0) -> list[Action]:
    """`count` actions spread round-robin over `games` games: mostly moves, a few throws.

    Random players and directions, so some moves are rejected (walls, edges, occupied
    cells) and some games end, as in play; every action still yields one state.
    """
    rng = random.Random(seed)
    actions: list[Action] = []
    for i in range(count):
        game_id = first_game + i % games
        player = rng.choice(PLAYERS)
        direction = rng.choice(DIRECTIONS)
        action_id = f"b{i}"
        if rng.random() < 0.03:
            actions.append(
                Throw(game_id=game_id, player=player, direction=direction, action_id=action_id)
            )
        else:
            actions.append(
                Move(game_id=game_id, player=player, direction=direction, action_id=action_id)
            )
    return actions


def joins(games: int, first_game: int = 0) -> list[Action]:
    """One `join` per game: each creates its game and makes the dataflow emit its state."""
    return [
        Join(game_id=g, player="A1", action_id=f"j{g}")
        for g in range(first_game, first_game + games)
    ]


def records(actions: Iterable[Action], partitions: int) -> list[Record]:
    """Actions encoded as clients send them: partition g mod P, key str(g)."""
    return [
        (partition_for(a.game_id, partitions), game_key(a.game_id), encode_action(a))
        for a in actions
    ]


def produce_all(settings: Settings, topic: str, messages: Iterable[Record]) -> int:
    """Produce `messages` and wait until every one is acknowledged; how many."""
    producer = Producer(producer_config(settings, **{"linger.ms": 5, "batch.num.messages": 10000}))
    count = 0
    for partition, key, value in messages:
        produce_patiently(producer, topic, value, key, partition)
        count += 1
    if producer.flush(60) != 0:
        raise RuntimeError(f"{topic}: not every message was acknowledged")
    return count


def tuned_consumer(settings: Settings, **extra: object) -> Consumer:
    """The benchmarks' tuned consumer: short fetch wait, a deep local queue."""
    return Consumer(
        consumer_config(
            settings,
            **{"queued.min.messages": 1_000_000, "fetch.max.bytes": 52_428_800, **extra},
        )
    )


def settle(consumer: Consumer) -> None:
    """Let a fresh consumer connect and take its assignment, so a clock started next excludes it."""
    for _ in range(5):
        consumer.consume(100, 0.1)


class Counter:
    """Reads every partition of a topic from `start` and keeps each message's broker timestamp."""

    def __init__(self, settings: Settings, topic: str, start: int = 0) -> None:
        self.timestamps_ms: list[int] = []
        self._consumer = tuned_consumer(settings)
        self._consumer.assign([TopicPartition(topic, p, start) for p in range(settings.partitions)])

    def settle(self) -> None:
        """Connect and take the assignment before anything is measured (see `settle`)."""
        settle(self._consumer)

    def poll(self, timeout_s: float = 0.005) -> int:
        """Read what has arrived (waiting at most `timeout_s`); how many messages were new."""
        new = 0
        for msg in self._consumer.consume(100_000, timeout_s):
            if msg.error() is not None:
                continue
            new += 1
            self.timestamps_ms.append(msg.timestamp()[1])
        return new

    def until(self, count: int, timeout_s: float, alive: Callable[[], None] = lambda: None) -> None:
        """Poll until `count` messages were read; raises after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while len(self.timestamps_ms) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{len(self.timestamps_ms)} of {count} messages after {timeout_s}s"
                )
            alive()
            self.poll()

    def close(self) -> None:
        self._consumer.close()

    def __enter__(self) -> "Counter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MachineCpu:
    """Cores busy on the whole machine since it was made, from /proc/stat (Linux)."""

    def __init__(self) -> None:
        self._busy, self._total = self._read()

    def busy_cores(self) -> float:
        busy, total = self._read()
        cores = os.cpu_count() or 1
        return cores * (busy - self._busy) / max(total - self._total, 1)

    @staticmethod
    def _read() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle and iowait
        return sum(fields) - idle, sum(fields)


def steady_rate(timestamps_ms: list[int]) -> float:
    """Messages per second between the first and the last message (start-up excluded)."""
    first, last = min(timestamps_ms), max(timestamps_ms)
    return (len(timestamps_ms) - 1) / max((last - first) / 1000, 1e-3)


def end_offsets_reader(settings: Settings, topic: str, partition: int) -> Consumer:
    """A consumer of one partition from its end (what arrives from now on)."""
    consumer = tuned_consumer(settings)
    consumer.assign([TopicPartition(topic, partition, OFFSET_END)])
    return consumer


@dataclass
class FlowProcess:
    """The real dataflow (`python -m bytewax.run dataflows.games`) in its own process group."""

    settings: Settings
    log_path: Path
    recovery: bool = True
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    def start(self, argv: list[str] | None = None, workers: int = 1) -> "FlowProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.started_at = time.monotonic()
        self.process = launch.spawn(
            self.settings, self.log_path, argv or launch.command(workers), self.recovery
        )
        return self

    def check(self) -> None:
        """Raise with the log's tail if the dataflow has exited."""
        if self.process is not None and self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"dataflow exited with {self.process.returncode}:\n{tail}")

    def rss_mb(self) -> float:
        """Resident memory of the process, from /proc (Linux)."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def kill(self) -> None:
        """kill -9 the whole group: no clean shutdown, no last snapshot."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def two_processes(settings: Settings, root: Path) -> list[FlowProcess]:
    """Two dataflow processes of one worker each (`-i 0/1 -a a;b`), started."""
    addresses = ";".join(f"127.0.0.1:{free_port()}" for _ in range(2))
    flows = []
    for i in range(2):
        argv = [*launch.command(1)[:-2], "-i", str(i), "-a", addresses]
        flows.append(FlowProcess(settings, root / f"dataflow-{i}.log").start(argv))
    return flows
