"""Live states of one game as server-sent events, read from the game's own `games` partition.

The API's only Kafka edge. A consumer without a group is assigned partition g mod P,
starting shortly before the store's snapshot was written so no state in between is
missed; versions only ever increase on the stream, so anything not newer than what
was already sent (a replay after recovery, or the snapshot itself) is skipped.
"""

import json
import time
from collections.abc import AsyncIterator
from datetime import datetime

import anyio
from anyio.to_thread import run_sync
from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from pydantic import ValidationError

from api.gateway.reader import REWIND, start_offset
from domain.models import GameState
from domain.wire import decode_state, encode_state
from infra.kafka import consumer_config, game_key, partition_for
from infra.settings import Settings

KEEPALIVE_S = 15.0
POLL_S = 0.25


def sse(state: GameState) -> bytes:
    """One `state` event; its id is the version, so a reconnecting client can send Last-Event-ID."""
    return b"event: state\nid: %d\ndata: %s\n\n" % (state.version, encode_state(state))


def end(state: GameState) -> bytes:
    """The last event of an ended (finished or abandoned) game's stream: nothing follows it.

    Without it a client could not tell a finished game from a quiet one, and the
    stream (and its Kafka consumer) would stay open forever.
    """
    data = {"game_id": state.game_id, "version": state.version, "winner": state.winner}
    return b"event: end\nid: %d\ndata: %s\n\n" % (state.version, json.dumps(data).encode())


async def state_events(
    settings: Settings,
    first: GameState,
    since: datetime,
    after_version: int = -1,
    keepalive_s: float = KEEPALIVE_S,
) -> AsyncIterator[bytes]:
    """`first` (the store's snapshot) then every newer state of its game, as SSE bytes.

    The stream ends with an `end` event once the game has ended (finished or abandoned),
    and never otherwise.
    `since` is when `first` was written; `after_version` is what the client already has.
    """
    last = after_version
    if first.version > last:
        last = first.version
        yield sse(first)
    if first.status != "running":  # finished or abandoned: no state will follow
        yield end(first)
        return
    consumer = Consumer(consumer_config(settings))
    try:
        try:
            await run_sync(_assign, consumer, settings, first.game_id, since)
        except KafkaException as err:
            yield b"event: error\ndata: %s\n\n" % json.dumps({"message": str(err)}).encode()
            return  # the client may reconnect with Last-Event-ID and resume
        idle_since = time.monotonic()
        while True:
            state = _state(await run_sync(consumer.poll, POLL_S), first.game_id)
            if state is not None and state.version > last:
                last = state.version
                idle_since = time.monotonic()
                yield sse(state)
                if state.status != "running":
                    yield end(state)
                    return
            elif time.monotonic() - idle_since >= keepalive_s:
                idle_since = time.monotonic()
                yield b": keepalive\n\n"  # keeps proxies from closing an idle stream
    finally:
        with anyio.CancelScope(shield=True):  # close even when the client went away
            await run_sync(consumer.close)


def _assign(consumer: Consumer, settings: Settings, game_id: int, since: datetime) -> None:
    """Start at the first state written after `since - REWIND`, or at the end if there is none.

    Starting by time, not at the end, means no state written after the snapshot is missed
    even though the snapshot was sent first.
    """
    partition = partition_for(game_id, settings.partitions)
    topic = settings.games_topic
    offset, _ = start_offset(consumer, topic, partition, (since - REWIND).timestamp())
    consumer.assign([TopicPartition(topic, partition, offset)])


def _state(msg: Message | None, game_id: int) -> GameState | None:
    """The state of `game_id` in `msg`, or None for anything else on the partition."""
    if msg is None or msg.error() is not None or msg.key() not in (game_key(game_id), None):
        return None
    try:
        state = decode_state(msg.value() or b"")
    except ValidationError:
        return None  # not a state; never the reader's to fail on
    return state if state.game_id == game_id else None
