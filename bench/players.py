"""Many players at a fixed rate each, two ways: WebSocket clients of the gateway, or direct Kafka clients.

Both send the same intents on the same schedule (each player `rate` intents/s, phases
spread at random), late ones as soon as they can but none after the load's end, and
time each intent to the first state, on that player's own connection, whose
`last.action_id` is its id. Frames are not parsed beyond that id.

The direct players are the terminal client's design: a producer and a consumer of the
game's `games` partition. The terminal client holds one pair per player; here the ten
players of a game share one pair (1,000 pairs do not fit on a two-core machine), so the
broker's load from direct clients is, if anything, understated.
"""

import asyncio
import heapq
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, Message, Producer
from websockets.asyncio.client import ClientConnection, connect

from bench.workload import end_offsets_reader
from domain.board import DIRECTIONS, PLAYERS
from infra.kafka import game_key, partition_for, producer_config
from infra.settings import Settings

Seat = tuple[int, str]
NEEDLE = '"last":{"action_id":"'


@dataclass
class Tally:
    """What one side's players sent and saw; latencies from send to state, in ms."""

    sent: int = 0
    answered: int = 0
    undelivered: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def answer(self, pending: dict[str, float], frame: str | bytes, now: float) -> None:
        """Time the intent `frame`'s state answers, if it is one of `pending`."""
        action_id = last_action_id(frame)
        sent_at = pending.pop(action_id, None) if action_id else None
        if sent_at is not None:
            with self.lock:  # the direct players' reader threads share the tally
                self.answered += 1
                self.latencies_ms.append((now - sent_at) * 1000)


def last_action_id(frame: str | bytes) -> str | None:
    """`last.action_id` of a state in the wire format, found without parsing the JSON."""
    text = frame.decode() if isinstance(frame, bytes) else frame
    at = text.find(NEEDLE)
    if at < 0:
        return None
    start = at + len(NEEDLE)
    return text[start : text.index('"', start)]


def seats(players: int, games: int, first_game: int = 1) -> list[Seat]:
    """`players` seats filling `games` games in turn, A1..B5 in each."""
    per_game = -(-players // games)
    if per_game > len(PLAYERS):
        raise ValueError(f"{players} players do not fit in {games} games of {len(PLAYERS)}")
    return [(first_game + n // per_game, PLAYERS[n % per_game]) for n in range(players)]


def intent(rng: random.Random, action_id: str) -> dict[str, str]:
    """A key press as the page sends it: mostly a move, now and then a throw."""
    kind = "throw" if rng.random() < 0.03 else "move"
    return {"type": kind, "direction": rng.choice(DIRECTIONS), "action_id": action_id}


def schedule(seat_count: int, rate: float, seconds: float, seed: int) -> list[tuple[float, int]]:
    """(offset in s, seat index) of every intent: each seat every 1/rate s from a random phase."""
    rng = random.Random(seed)
    events = []
    for index in range(seat_count):
        t = rng.random() / rate
        while t < seconds:
            events.append((t, index))
            t += 1 / rate
    heapq.heapify(events)
    return [heapq.heappop(events) for _ in range(len(events))]


# --- WebSocket players -------------------------------------------------------------------


class SocketPlayers:
    """`seats` as WebSocket clients of the gateway at `base` (ws://host:port)."""

    def __init__(self, base: str, seats: list[Seat], seed: int = 11) -> None:
        self.base = base
        self.seats = seats
        self.tally = Tally()
        self.seed = seed
        self._sockets: list[ClientConnection] = []
        self._pending: list[dict[str, float]] = [{} for _ in seats]
        self._seen_state = [asyncio.Event() for _ in seats]
        self._readers: list[asyncio.Task[None]] = []

    async def connect(self, at_once: int = 50, timeout_s: float = 120.0) -> None:
        """Open every socket (`at_once` at a time), join each game once, until all have a state."""
        async with asyncio.timeout(timeout_s):
            for start in range(0, len(self.seats), at_once):
                chunk = range(start, min(start + at_once, len(self.seats)))
                self._sockets += await asyncio.gather(*(self._open(i) for i in chunk))
            self._readers = [
                asyncio.create_task(self._read(i, ws)) for i, ws in enumerate(self._sockets)
            ]
            firsts = {}
            for i, (game, _) in enumerate(self.seats):
                firsts.setdefault(game, i)
            for i in firsts.values():
                await self._sockets[i].send(json.dumps({"type": "join", "action_id": f"j{i}"}))
            await asyncio.gather(*(e.wait() for e in self._seen_state))

    async def play(self, rate: float, seconds: float) -> None:
        """Every seat sends `rate` intents/s for `seconds`."""
        rng = random.Random(self.seed)
        start = time.perf_counter()
        for offset, index in schedule(len(self.seats), rate, seconds, self.seed):
            wait = start + offset - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            elif time.perf_counter() > start + seconds:
                return  # behind schedule at the end: players stop pressing keys on time
            action_id = f"w{index}-{self.tally.sent}"
            self._pending[index][action_id] = time.perf_counter()
            self.tally.sent += 1
            try:
                await self._sockets[index].send(json.dumps(intent(rng, action_id)))
            except Exception:  # a socket the gateway closed: counted, never hidden
                self.tally.undelivered += 1

    async def drain(self, timeout_s: float) -> None:
        """Until every intent is answered, or `timeout_s` passed."""
        deadline = time.perf_counter() + timeout_s
        while any(self._pending) and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)  # answers arrive on the reader tasks meanwhile

    async def close(self) -> None:
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self._sockets), return_exceptions=True)

    async def _open(self, index: int) -> ClientConnection:
        game, player = self.seats[index]
        url = f"{self.base}/games/{game}/play?player={player}"
        return await connect(url, max_size=None, ping_interval=None, open_timeout=60)

    async def _read(self, index: int, ws: ClientConnection) -> None:
        pending, seen = self._pending[index], self._seen_state[index]
        async for frame in ws:
            if frame.startswith('{"type"'):
                report = json.loads(frame)
                if report.get("type") == "undelivered":
                    pending.pop(report.get("action_id"), None)
                    self.tally.undelivered += 1
                continue
            seen.set()
            self.tally.answer(pending, frame, time.perf_counter())


# --- direct Kafka players ----------------------------------------------------------------


class DirectPlayers:
    """`seats` as direct Kafka clients: per game, a producer and a reader of its `games` partition."""

    def __init__(self, settings: Settings, seats: list[Seat], seed: int = 11) -> None:
        self.settings = settings
        self.seats = seats
        self.seed = seed
        self.tally = Tally()
        self.games = sorted({g for g, _ in seats})
        self._pending: dict[int, dict[str, float]] = {g: {} for g in self.games}
        self._producers = {g: self._producer() for g in self.games}
        self._readers: dict[int, Consumer] = {}
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._seen = {g: threading.Event() for g in self.games}

    def connect(self, timeout_s: float = 120.0) -> None:
        """Start a reader per game at the end of its partition, join each game, until all have a state."""
        for g in self.games:
            partition = partition_for(g, self.settings.partitions)
            self._readers[g] = end_offsets_reader(
                self.settings, self.settings.games_topic, partition
            )
            thread = threading.Thread(target=self._read, args=(g,), daemon=True)
            thread.start()
            self._threads.append(thread)
        deadline = time.monotonic() + timeout_s
        while not all(e.is_set() for e in self._seen.values()):
            for g in self.games:
                if not self._seen[g].is_set():
                    self._send(g, "A1", {"type": "join", "action_id": f"j{g}"})
            if time.monotonic() > deadline:
                raise TimeoutError("direct players: not every game answered its join")
            self._seen[self.games[0]].wait(1.0)  # then join the silent games again

    def play(self, rate: float, seconds: float) -> None:
        rng = random.Random(self.seed)
        start = time.perf_counter()
        for offset, index in schedule(len(self.seats), rate, seconds, self.seed):
            wait = start + offset - time.perf_counter()
            if wait > 0:
                self._stop.wait(wait)  # the schedule's tick
            elif time.perf_counter() > start + seconds:
                return  # behind schedule at the end: players stop pressing keys on time
            game, player = self.seats[index]
            action_id = f"d{index}-{self.tally.sent}"
            self._pending[game][action_id] = time.perf_counter()
            self.tally.sent += 1
            self._send(game, player, intent(rng, action_id))

    def drain(self, timeout_s: float) -> None:
        deadline = time.perf_counter() + timeout_s
        while any(self._pending.values()) and time.perf_counter() < deadline:
            for producer in self._producers.values():
                producer.poll(0)
            self._stop.wait(0.1)  # answers arrive on the reader threads meanwhile

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        for reader in self._readers.values():
            reader.close()
        for producer in self._producers.values():
            producer.flush(5)

    def _producer(self) -> Producer:
        return Producer(producer_config(self.settings, **{"message.timeout.ms": 10_000}))

    def _send(self, game: int, player: str, frame: dict[str, str]) -> None:
        value = json.dumps({**frame, "game_id": game, "player": player}).encode()
        producer = self._producers[game]
        producer.produce(
            self.settings.actions_topic,
            value,
            game_key(game),
            partition=partition_for(game, self.settings.partitions),
            on_delivery=self._delivered(game, frame["action_id"]),
        )
        producer.poll(0)

    def _delivered(self, game: int, action_id: str) -> Callable[[KafkaError | None, Message], None]:
        def report(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                self._pending[game].pop(action_id, None)
                with self.tally.lock:
                    self.tally.undelivered += 1

        return report

    def _read(self, game: int) -> None:
        reader, pending, seen = self._readers[game], self._pending[game], self._seen[game]
        needle = f'"game_id":{game},'.encode()
        while not self._stop.is_set():
            for msg in reader.consume(1000, 0.1):
                value = msg.value()
                if msg.error() is not None or not value or not value.startswith(b"{" + needle):
                    continue  # another game of the same partition
                seen.set()
                self.tally.answer(pending, value, time.perf_counter())
