"""The gateway's one `games` consumer, and the fan-out of each state to its game's sockets.

One consumer per process, without a group: it is assigned partition g mod P when the
first socket of a game on it connects, and unassigned when the last socket of that
partition leaves. It runs on its own thread and hands states to the event loop in
batches; the loop gives each state to the `Subscriber` of every socket of its game.

A new socket first gets the newest state the hub already read, else the recovery
store's snapshot; a partition is read from a few seconds back when it is assigned, so
any state written after the snapshot the store holds is read too. Only once that read
has reached the partition's end is a game without any state said to be waiting for
its first one. Versions only go up on a socket, so replays (after a dataflow crash, or
this rewind) never reach a player.
"""

import asyncio
import logging
import queue
import threading
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaError

from api.gateway.reader import RETRY_S, Reader, State
from api.gateway.subscriber import Subscriber
from domain.models import GameState
from domain.wire import encode_state
from infra.kafka import consumer_config, partition_for
from infra.settings import Settings

POLL_S = 0.05  # also how soon a new partition's assignment starts
STORE_AFTER_S = 1.0  # a new socket gets the store's snapshot if its partition is not read by then

Snapshot = Callable[[int], GameState | None]


class StateHub:
    """Subscribe a socket to a game: it gets the game's newest state, then every newer one."""

    def __init__(self, settings: Settings, snapshot: Snapshot) -> None:
        self.settings = settings
        self._snapshot = snapshot
        self._log = logging.getLogger("moba.gateway.hub")
        self._loop: asyncio.AbstractEventLoop | None = None
        # the event loop's thread only:
        self._subscribers: dict[int, set[Subscriber]] = {}
        self._latest: dict[int, tuple[int, str]] = {}  # newest state read, per game
        self._needed: dict[int, int] = {}  # partition -> games subscribed on it
        self._caught_up: set[int] = set()  # needed partitions read up to their end once
        # the consumer's thread only, fed by the loop through _commands:
        self._commands: queue.SimpleQueue[tuple[str, int]] = queue.SimpleQueue()
        self.on_state: Callable[[str], None] | None = None  # each state read once (metrics)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the consumer thread; call from the event loop that will serve the sockets."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="moba-gateway-hub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    @property
    def partitions(self) -> list[int]:
        """The `games` partitions some socket needs now."""
        return sorted(self._needed)

    async def subscribe(self, game_id: int, subscriber: Subscriber) -> None:
        """Add `subscriber` to `game_id`: it gets the newest state known, or hears there is none.

        Until the game's partition has been read to its end, nothing is offered: the
        newest of what was read and of the store's snapshot is offered then, rather than
        a replay of the last seconds or a snapshot that the topic already superseded.
        If that takes longer than STORE_AFTER_S (the broker is away), the store's
        snapshot is offered meanwhile.
        """
        stored = await asyncio.to_thread(self._snapshot, game_id)
        partition = partition_for(game_id, self.settings.partitions)
        games = self._subscribers.setdefault(game_id, set())
        if not games:
            self._needed[partition] = self._needed.get(partition, 0) + 1
            if self._needed[partition] == 1:
                self._commands.put(("assign", partition))
        games.add(subscriber)
        if stored is not None:
            self._remember(game_id, stored.version, encode_state(stored).decode())
        if partition in self._caught_up:
            self._greet(game_id, subscriber)
        else:  # the broker may be slow or away: then the store's snapshot will do for now
            asyncio.get_running_loop().call_later(
                STORE_AFTER_S, self._greet_from_store, game_id, subscriber
            )

    def unsubscribe(self, game_id: int, subscriber: Subscriber) -> None:
        games = self._subscribers.get(game_id)
        if games is None or subscriber not in games:
            return
        games.discard(subscriber)
        if games:
            return
        del self._subscribers[game_id]
        partition = partition_for(game_id, self.settings.partitions)
        self._needed[partition] -= 1
        if self._needed[partition] == 0:
            del self._needed[partition]
            self._caught_up.discard(partition)
            self._commands.put(("unassign", partition))
            p = self.settings.partitions
            for game in [g for g in self._latest if partition_for(g, p) == partition]:
                del self._latest[game]

    def _fan_out(self, states: list[State], caught_up: list[int]) -> None:
        """On the loop: remember each game's newest state and offer it to the game's sockets.

        States of a partition still being read up to its end are only remembered; when
        it gets there, each socket waiting on it is offered its game's newest state.
        """
        p = self.settings.partitions
        for game_id, version, text in states:
            partition = partition_for(game_id, p)
            if partition not in self._needed:
                continue  # read just before its partition was given up
            self._remember(game_id, version, text)
            if self.on_state is not None:
                self.on_state(text)
            if partition in self._caught_up:
                for subscriber in self._subscribers.get(game_id, ()):
                    subscriber.offer(version, text)
        for partition in caught_up:
            if partition not in self._needed or partition in self._caught_up:
                continue
            self._caught_up.add(partition)
            for game_id, subscribers in self._subscribers.items():
                if partition_for(game_id, p) == partition:
                    for subscriber in subscribers:
                        self._greet(game_id, subscriber)

    def _greet_from_store(self, game_id: int, subscriber: Subscriber) -> None:
        """A socket still without a state, its partition still not read: offer what is known."""
        latest = self._latest.get(game_id)
        if latest is not None and subscriber in self._subscribers.get(game_id, ()):
            subscriber.offer(*latest)

    def _remember(self, game_id: int, version: int, text: str) -> None:
        latest = self._latest.get(game_id)
        if latest is None or version > latest[0]:
            self._latest[game_id] = (version, text)

    def _greet(self, game_id: int, subscriber: Subscriber) -> None:
        """A new socket's first frame: its game's newest state, or word that it has none yet."""
        latest = self._latest.get(game_id)
        if latest is not None:
            subscriber.offer(*latest)
        else:
            subscriber.no_state_yet(game_id)

    def _run(self) -> None:
        config = consumer_config(self.settings, logger=self._log, error_cb=self._on_error)
        config["reconnect.backoff.max.ms"] = 1000
        consumer = Consumer(config)
        reader = Reader(consumer, self.settings.games_topic, self._log)
        try:
            while not self._stop.is_set():
                try:
                    self._step(reader)
                except Exception:  # the sockets depend on this thread: log, and go on
                    self._log.exception("the gateway's consumer failed a step; retrying")
                    self._stop.wait(RETRY_S)
        finally:
            consumer.close()

    def _step(self, reader: Reader) -> None:
        """Apply the loop's commands, assign what waits, hand what was read to the loop."""
        self._take_commands(reader, wait=not reader.assigned)
        reader.assign_pending()
        states = reader.read(POLL_S)
        caught_up = reader.caught_up()
        if (states or caught_up) and self._loop is not None:
            self._loop.call_soon_threadsafe(self._fan_out, states, caught_up)

    def _take_commands(self, reader: Reader, wait: bool) -> None:
        """Apply the loop's (un)assign commands; with nothing to read, wait a moment for one."""
        try:
            while True:
                if wait:
                    command, partition = self._commands.get(timeout=POLL_S)
                else:
                    command, partition = self._commands.get_nowait()
                reader.apply(command, partition)
                wait = False
        except queue.Empty:
            return

    def _on_error(self, err: KafkaError) -> None:
        self._log.warning("games consumer: %s", err)
