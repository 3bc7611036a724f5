"""What every measurement needs: fresh topics, generated actions, counting readers, the machine's load.

Messages are counted by reading them, never from high watermarks (Tansu's undercount).
The soak, the memory runs and the tests take their topics and actions from here too.
"""

import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_END, Consumer, Producer, TopicPartition

from client.strategy import choose
from domain.board import DIRECTIONS, PLAYERS
from domain.models import Action, GameState, Join, Move, Throw
from domain.rules import new_game, next_state
from domain.wire import encode_action
from infra.kafka import (
    consumer_config,
    create_topics,
    game_key,
    partition_for,
    produce_patiently,
    producer_config,
)
from infra.settings import Settings

Record = tuple[int, bytes, bytes]  # (partition, key, value) ready to produce


@dataclass(frozen=True)
class Message:
    """A message read back from a topic."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


def fresh_settings(bootstrap_servers: str, root: Path, **overrides: Any) -> Settings:
    """Settings on topics of their own on `bootstrap_servers` (created here), data under `root`.

    Every call gets new topic names and a new data dir `root/<suffix>`, so runs and
    tests never share a topic or a recovery store. `overrides` are further settings.
    """
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        bootstrap_servers=bootstrap_servers,
        actions_topic=f"actions-{suffix}",
        games_topic=f"games-{suffix}",
        dlq_topic=f"actions.dlq-{suffix}",
        data_dir=root / suffix,
        **overrides,
    )
    create_topics(settings)
    return settings


def key_presses(games: range, count: int, seed: int = 6, throws: float = 0.03) -> Iterator[Action]:
    """`count` random key presses over `games`, round-robin: moves, and a share `throws` of throws.

    Random players and directions, so some moves are rejected (walls, edges, occupied
    cells) and some games end, as in play; every action still yields one state. Lazy,
    so an hour's worth costs no memory; `list()` it to produce it more than once.
    """
    rng = random.Random(seed)
    for n in range(count):
        game_id = games[n % len(games)]
        kind = Throw if rng.random() < throws else Move
        player, direction = rng.choice(PLAYERS), rng.choice(DIRECTIONS)
        yield kind(game_id=game_id, player=player, direction=direction, action_id=f"{game_id}-{n}")


def realistic_games(games: int, actions: int, seed: int, first_id: int = 1000) -> list[Action]:
    """`actions` actions over `games` games, interleaved at random, as players would send them.

    Each game is simulated with the domain: mostly a random key press (a move, rarely
    a throw; rejected or not), sometimes what the bots' strategy would do, now and then
    a join; players of a finished game keep pressing keys for a while (rejected as
    `game_over`). The soak's workload: slower to make than `key_presses`, closer to play.
    """
    rng = random.Random(seed)
    ids = list(range(first_id, first_id + games))
    budget = {g: actions // games + (1 if i < actions % games else 0) for i, g in enumerate(ids)}
    states = {g: new_game(g) for g in ids}
    out: list[Action] = []
    open_ids = [g for g in ids if budget[g] > 0]
    while open_ids:
        i = rng.randrange(len(open_ids))
        g = open_ids[i]
        action = _one_action(states[g], rng, f"{g}-{states[g].version}")
        states[g] = next_state(states[g], action)
        out.append(action)
        budget[g] -= 1
        if budget[g] == 0:
            open_ids[i] = open_ids[-1]
            open_ids.pop()
    return out


def _one_action(state: GameState, rng: random.Random, action_id: str) -> Action:
    alive = [name for name, p in state.players.items() if p.alive] or list(state.players)
    player = rng.choice(alive)
    roll = rng.random()
    g = state.game_id
    if roll < 0.03:
        return Join(game_id=g, player=player, action_id=action_id)
    if roll < 0.85:  # a human's random key: a move, rarely a throw
        kind = Throw if rng.random() < 0.02 else Move
        return kind(game_id=g, player=player, direction=rng.choice(DIRECTIONS), action_id=action_id)
    intent = choose(state, player, rng)
    if intent is None:
        return Move(game_id=g, player=player, direction=rng.choice(DIRECTIONS), action_id=action_id)
    kind_name, direction = intent
    kind = Throw if kind_name == "throw" else Move
    return kind(game_id=g, player=player, direction=direction, action_id=action_id)


def joins(games: range) -> list[Action]:
    """One `join` per game: each creates its game and makes the dataflow emit its state."""
    return [Join(game_id=g, player="A1", action_id=f"j{g}") for g in games]


def by_game(actions: Iterable[Action]) -> dict[int, list[Action]]:
    """Each game's actions, in the order given: what the fold of each game applies."""
    games: dict[int, list[Action]] = {}
    for action in actions:
        games.setdefault(action.game_id, []).append(action)
    return games


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


class EndWatch:
    """Waits until a topic holds a number of messages by asking for its end offsets, reading none.

    A consumer that has caught up keeps fetching on noida, which answers an empty fetch
    at once (docs/brokers.md): about half a core for the reader and as much again for
    the broker. A `Counter` reading while a throughput run goes on would take that from
    what it measures; this asks for each partition's end offset every `every_s` instead.
    Tansu under-counts end offsets (a batch moves its end by one, docs/operations.md), so
    the watch also ends once they have stood still for `still_s`: a `Counter` confirms.
    """

    def __init__(
        self, settings: Settings, topic: str, every_s: float = 0.05, still_s: float = 1.0
    ) -> None:
        self._consumer = tuned_consumer(settings)
        self._partitions = [TopicPartition(topic, p) for p in range(settings.partitions)]
        self._every_s = every_s
        self._still_s = still_s

    def count(self) -> int:
        """Messages on the topic now: the sum of its partitions' end offsets (a fresh topic)."""
        return sum(self._consumer.get_watermark_offsets(p, 10)[1] for p in self._partitions)

    def until(self, count: int, timeout_s: float, alive: Callable[[], None] = lambda: None) -> None:
        """Wait until the topic holds `count` messages, or its ends stand still past the first.

        Raises after `timeout_s`.
        """
        deadline = time.monotonic() + timeout_s
        last, moved = 0, time.monotonic()
        while (found := self.count()) < count:
            now = time.monotonic()
            if found != last:
                last, moved = found, now
            elif found and now - moved > self._still_s:
                return
            if now > deadline:
                raise TimeoutError(f"{found} of {count} messages after {timeout_s}s")
            alive()
            time.sleep(self._every_s)

    def close(self) -> None:
        self._consumer.close()

    def __enter__(self) -> "EndWatch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system, every thread) a process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
