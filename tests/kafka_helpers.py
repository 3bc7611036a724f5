"""Test helpers on a real broker: produce as clients do, read topics to a deadline.

Reusable by every suite: `produce_actions`, `produce_raw`, `read_topic`, `states_by_game`,
`until_committed`. The dataflow itself runs as `dataflows.launch.start` starts it (see
the `run_dataflow` fixture in conftest.py).
"""

import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from bench.workload import Message, produce_all, records
from client.strategy import choose
from domain.models import Action, GameState, Move, Throw
from domain.rules import new_game, next_state
from domain.wire import decode_state
from infra.kafka import consumer_config, produce_patiently, producer_config
from infra.settings import Settings


def produce_actions(settings: Settings, actions: Iterable[Action]) -> int:
    """Produce `actions` as clients do: game g to partition g mod P, key str(g); how many."""
    return produce_all(settings, settings.actions_topic, records(actions, settings.partitions))


def played_to_the_end(game_id: int, players: list[str], seed: int) -> list[Action]:
    """The bots' actions for `players` alone until game `game_id` is over, folded as they go.

    The other players stand still (people in a test who only watch). Decided here, not
    by bots reacting to the states they read: a live game can reach a stalemate (the
    bots out of grenades, the watchers alive) that depends on timing; this cannot.
    """
    state, rng = new_game(game_id), random.Random(seed)
    actions: list[Action] = []
    for turn in range(5000):
        if state.status != "running":
            return actions
        player = players[turn % len(players)]
        intent = choose(state, player, rng)
        if intent is not None:
            kind = Move if intent[0] == "move" else Throw
            action = kind(game_id=game_id, player=player, direction=intent[1], action_id=f"t{turn}")
            actions.append(action)
            state = next_state(state, action)
    raise AssertionError(f"{players} did not finish game {game_id} with seed {seed}")


def produce_raw(settings: Settings, items: Iterable[tuple[int, bytes | None]]) -> None:
    """Produce raw `(partition, value)` messages to `actions` (for malformed input)."""
    producer = Producer(producer_config(settings))
    for partition, value in items:
        produce_patiently(producer, settings.actions_topic, value, None, partition)
    assert producer.flush(30) == 0


def read_topic(
    settings: Settings,
    topic: str,
    until: Callable[[list[Message]], bool],
    timeout_s: float = 60.0,
    partitions: Iterable[int] | None = None,
) -> list[Message]:
    """Every message of `topic` (or of `partitions`) from the start, until `until(messages)`."""
    with TopicReader(settings, topic, partitions) as reader:
        return reader.read_until(until, timeout_s)


class TopicReader:
    """A consumer kept open on a topic from its start; `messages` grows with each read."""

    def __init__(
        self, settings: Settings, topic: str, partitions: Iterable[int] | None = None
    ) -> None:
        self.topic = topic
        self.messages: list[Message] = []
        self._consumer = Consumer(consumer_config(settings))
        wanted = range(settings.partitions) if partitions is None else partitions
        self._consumer.assign([TopicPartition(topic, p, 0) for p in wanted])

    def read_until(
        self, until: Callable[[list[Message]], bool], timeout_s: float = 60.0
    ) -> list[Message]:
        """Poll to a deadline until `until(messages)`; fails with what it has seen otherwise."""
        deadline = time.monotonic() + timeout_s
        while not until(self.messages):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.topic}: condition not met after {timeout_s}s; "
                    f"{len(self.messages)} messages"
                )
            for msg in self._consumer.consume(10_000, 0.05):
                if msg.error() is None:
                    headers = dict(msg.headers() or [])
                    self.messages.append(
                        Message(msg.partition(), msg.offset(), msg.key(), msg.value(), headers)
                    )
        return self.messages

    def __enter__(self) -> "TopicReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self._consumer.close()


def states_by_game(messages: Iterable[Message]) -> dict[int, list[GameState]]:
    """States read from `games`, per game, in the order they were read."""
    games: dict[int, list[GameState]] = defaultdict(list)
    for msg in messages:
        assert msg.value is not None
        state = decode_state(msg.value)
        games[state.game_id].append(state)
    return games


class Reached:
    """A condition for `read_topic` on `games`: every game has reached its final version."""

    def __init__(self, final_versions: dict[int, int]) -> None:
        self.final_versions = final_versions
        self.best: dict[int, int] = {}
        self._checked = 0

    def __call__(self, messages: list[Message]) -> bool:
        for msg in messages[self._checked :]:
            state = decode_state(msg.value or b"")
            self.best[state.game_id] = max(self.best.get(state.game_id, 0), state.version)
        self._checked = len(messages)
        return all(self.best.get(g, 0) >= v for g, v in self.final_versions.items())


def until_committed(
    settings: Settings, final_versions: dict[int, int], timeout_s: float = 60
) -> None:
    """Until the recovery store's committed epochs hold every game at its final version.

    Only then does a stop lose nothing a restart would have to replay: a fast flow can
    process everything within its first epoch, before anything is committed.
    """
    from api.store import GameStore, NoStore, UnknownGame

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with GameStore.of(settings) as store:
                if all(
                    _committed_version(store, g, UnknownGame) >= v
                    for g, v in final_versions.items()
                ):
                    return
        except NoStore:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the recovery store did not commit every game in {timeout_s} s")
        time.sleep(0.1)  # the store is files; there is nothing to block on


def _committed_version(store: Any, game_id: int, unknown: type[Exception]) -> int:
    try:
        return int(store.game(game_id).state.version)
    except unknown:
        return 0
