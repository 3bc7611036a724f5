"""The authoritative game server: `actions` -> decode -> per-game state -> `games`; bad ones -> DLQ.

Run it as `python -m bytewax.run dataflows.games -w 10` (any -w, or -i/-a). Settings
come from the MOBA_* environment; recovery is on when bytewax's own variables are set
(BYTEWAX_RECOVERY_DIRECTORY, BYTEWAX_SNAPSHOT_INTERVAL, BYTEWAX_RECOVERY_BACKUP_INTERVAL).

`flow` is built lazily by the module's `__getattr__`: importing this module reads no
environment and opens no connection, and building it (which `bytewax.run` does by
looking the attribute up) initialises an empty recovery directory instead of letting
bytewax reject it. Tests call `build_flow` with bytewax's testing source and sink.

Step ids label recovery data (`game_state` holds each game's JSON): never rename them.
"""

import gc
import os
from datetime import datetime
from functools import partial
from pathlib import Path

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.operators import StatefulLogic
from bytewax.outputs import Sink

from dataflows.records import (
    DETAIL_HEADER,
    REASON_HEADER,
    SOURCE_HEADER,
    TRUNCATED_HEADER,
    DeadLetter,
    Inbound,
    Intent,
    Outbound,
)
from domain.auth import next_authentic_state
from domain.models import GameState
from domain.rules import new_game
from domain.wire import InvalidMessage, decode_action, decode_state, encode_state
from infra.kafka import game_key, partition_for
from infra.settings import Settings

FLOW_ID = "moba"
STATE_STEP = "game_state"
# A dead letter's key and value are kept whole up to this size: far beyond any real
# action, and under the ~1 MB message limit of Kafka and librdkafka by default.
# Copying a 1 MB message whole would fail to produce and crash-loop the flow.
MAX_DEAD_LETTER_BYTES = 256 * 1024


def decode(msg: Inbound | DeadLetter, max_bytes: int, partitions: int) -> Intent | DeadLetter:
    """The action in `msg`, or a dead letter saying why there is none."""
    if isinstance(msg, DeadLetter):
        return msg
    try:
        action = decode_action(msg.value, max_bytes)
    except InvalidMessage as err:
        return DeadLetter(msg, err.reason, err.detail)
    expected = partition_for(action.game_id, partitions)
    if msg.partition != expected:
        # Replay after a crash is deterministic only if a game's actions share one partition.
        detail = f"game {action.game_id} belongs on partition {expected}, not {msg.partition}"
        return DeadLetter(msg, "wrong_partition", detail)
    return Intent(action, msg)


def is_intent(item: Intent | DeadLetter) -> bool:
    return isinstance(item, Intent)


def game_of(intent: Intent) -> str:
    return str(intent.action.game_id)


class GameLogic(StatefulLogic[Intent, GameState | DeadLetter, bytes]):
    """One game's authoritative state, kept as an object; snapshots are its wire JSON.

    Never raises: an exception in a stateful step would crash-loop the flow on the
    same action, so a failure of the rules dead-letters the action and keeps the state.
    """

    def __init__(self, state: GameState | None, secret: bytes | None) -> None:
        self._state = state
        self._secret = secret

    @classmethod
    def builder(cls, settings: Settings, resume: bytes | None) -> "GameLogic":
        # handed the settings, not the key: their repr masks the secret wherever it is shown
        return cls(None if resume is None else decode_state(resume), settings.secret_key)

    def on_item(self, value: Intent) -> tuple[list[GameState | DeadLetter], bool]:
        action = value.action
        try:
            state = self._state if self._state is not None else new_game(action.game_id)
            # with a secret, an action without its own player's token is `bad_token`
            nxt = next_authentic_state(state, action, self._secret)
        except Exception as err:
            letter = DeadLetter(value.source, "rules_error", f"{type(err).__name__}: {err}"[:300])
            return [letter], self._state is None  # nothing to keep if the game never started
        self._state = nxt
        return [nxt], StatefulLogic.RETAIN

    def notify_at(self) -> datetime | None:
        return None

    def snapshot(self) -> bytes:
        assert self._state is not None
        return encode_state(self._state)


def state_record(
    key_state: tuple[str, GameState], topic: str, partitions: int
) -> tuple[str, Outbound]:
    """A state as a `games` message on partition g mod P, key str(g)."""
    key, state = key_state
    record = Outbound(
        topic,
        partition_for(state.game_id, partitions),
        game_key(state.game_id),
        encode_state(state),
    )
    return key, record


def dead_letter_record(letter: DeadLetter, topic: str, partitions: int) -> tuple[str, Outbound]:
    """A dead letter as a DLQ message: the original bytes, the reason in headers (see docs)."""
    source = letter.source
    headers: tuple[tuple[str, bytes], ...] = (
        (REASON_HEADER, letter.reason.encode()),
        (DETAIL_HEADER, letter.detail.encode()),
    )
    if source is None:
        return "dlq", Outbound(topic, 0, None, None, headers)
    where = f"{source.topic}/{source.partition}/{source.offset}".encode()
    headers = (*headers, (SOURCE_HEADER, where))
    cut = [
        f"{name}:{len(data)}"
        for name, data in (("key", source.key), ("value", source.value))
        if data is not None and len(data) > MAX_DEAD_LETTER_BYTES
    ]
    if cut:
        headers = (*headers, (TRUNCATED_HEADER, ",".join(cut).encode()))
    record = Outbound(
        topic,
        source.partition % partitions,
        _bounded(source.key),
        _bounded(source.value),
        headers,
    )
    return f"dlq-{source.partition}", record


def _bounded(data: bytes | None) -> bytes | None:
    return data if data is None else data[:MAX_DEAD_LETTER_BYTES]


def split_outcome(key_item: tuple[str, GameState | DeadLetter]) -> bool:
    return isinstance(key_item[1], GameState)


def letter_of(key_letter: tuple[str, DeadLetter]) -> DeadLetter:
    return key_letter[1]


def build_flow(
    source: Source[Inbound | DeadLetter],
    sink: Sink[tuple[str, Outbound]],
    settings: Settings,
) -> Dataflow:
    """The dataflow from `source` to `sink`; the Kafka edges or bytewax's testing ones.

    With `settings.secret` every action needs its player's join token (else `bad_token`).
    """
    P = settings.partitions
    flow = Dataflow(FLOW_ID)
    inbound = op.input("actions_in", flow, source)
    # Inbound | DeadLetter (consumer errors)
    decoded = op.map(
        "decode", inbound, partial(decode, max_bytes=settings.max_action_bytes, partitions=P)
    )
    # Intent | DeadLetter
    valid = op.branch("valid", decoded, is_intent)
    keyed = op.key_on("by_game", valid.trues, game_of)
    # (str(game_id), Intent)
    outcomes = op.stateful(STATE_STEP, keyed, partial(GameLogic.builder, settings))
    # (str(game_id), GameState | DeadLetter)
    applied = op.branch("applied", outcomes, split_outcome)
    states = op.map(
        "state_out", applied.trues, partial(state_record, topic=settings.games_topic, partitions=P)
    )
    # (str(game_id), Outbound to games[g mod P])
    failed = op.map("unapplied", applied.falses, letter_of)
    # DeadLetter
    letters = op.merge("dead_letters", valid.falses, failed)
    dlq = op.map(
        "dlq_out", letters, partial(dead_letter_record, topic=settings.dlq_topic, partitions=P)
    )
    # (routing key, Outbound to actions.dlq)
    op.output("kafka_out", op.merge("outbound", states, dlq), sink)
    return flow


def kafka_flow(settings: Settings) -> Dataflow:
    """The flow on the real topics of `settings` (no connection until bytewax builds the parts)."""
    from dataflows.kafka import ActionsSource, RoutedSink
    from infra.kafka import consumer_config, producer_config

    source = ActionsSource(consumer_config(settings), settings.actions_topic, settings.partitions)
    sink = RoutedSink(producer_config(settings), settings.partitions)
    return build_flow(source, sink, settings)


def __getattr__(name: str) -> Dataflow:
    """Build `flow` on first access: `bytewax.run` is the entrypoint, so the env is read here."""
    if name != "flow":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    recovery_dir = os.environ.get("BYTEWAX_RECOVERY_DIRECTORY")
    if recovery_dir:
        from dataflows.recovery import prepare_recovery_dir

        prepare_recovery_dir(Path(recovery_dir))
    built = kafka_flow(Settings())
    globals()["flow"] = built
    collect_rarely()
    return built


def collect_rarely() -> None:
    """Tune the garbage collector for a process that allocates a few objects per action.

    States, actions and records form no reference cycles, yet with the default
    thresholds the collector ran every ~70 actions and, every few hundred, walked every
    live object (all games, all modules): 16% of the flow's CPU in a profile
    (docs/benchmarks.md). Objects loaded at start-up are frozen out of collections.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
