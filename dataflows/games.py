"""The authoritative game server: `actions` -> decode -> per-game state -> `games`; bad ones -> DLQ.

Run it as `python -m bytewax.run dataflows.games -w 1` (one worker per process: Python
runs one thread at a time, and Bytewax 0.21 wakes every worker thread every millisecond,
so ten workers in one process do the work of one and cost more; for more cores, start
more processes with -i/-a, docs/scaling.md). Settings
come from the MOBA_* environment; recovery is on when bytewax's own variables are set
(BYTEWAX_RECOVERY_DIRECTORY, BYTEWAX_SNAPSHOT_INTERVAL, BYTEWAX_RECOVERY_BACKUP_INTERVAL).

`flow` is built lazily by the module's `__getattr__`: importing this module reads no
environment and opens no connection, and building it (which `bytewax.run` does by
looking the attribute up) initialises an empty recovery directory instead of letting
bytewax reject it. Tests call `build_flow` with bytewax's testing source and sink.

Step ids label recovery data (`game_state` holds each game's JSON; infra/recovery.py
names them): never rename them.
"""

import gc
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import bytewax.operators as op
from bytewax.dataflow import Dataflow, operator
from bytewax.inputs import Source
from bytewax.operators import KeyedStream, StatefulBatchLogic
from bytewax.outputs import Sink

from dataflows.records import (
    DETAIL_HEADER,
    REASON_HEADER,
    SOURCE_HEADER,
    TRUNCATED_HEADER,
    DeadLetter,
    Decoded,
    Final,
    Inbound,
    Outbound,
)
from dataflows.roster import RosterLogic
from domain.game import Game, make
from domain.lifecycle import next_record, started
from domain.models import Tick
from domain.snapshots import RETIRED, game_of_snapshot, snapshot_of
from domain.timeouts import Limits, is_evictable
from domain.wire import StateEncoder
from infra.intake import NotAdmitted, admitted_record
from infra.kafka import game_key, partition_for
from infra.recovery import FLOW_ID, INPUT_STEP, ROSTER_STEP, STATE_STEP, prepare_recovery_dir
from infra.settings import Settings

# A dead letter's key and value are kept whole up to this size: far beyond any real
# action, and under the ~1 MB message limit of Kafka and librdkafka by default.
# Copying a 1 MB message whole would fail to produce and crash-loop the flow.
MAX_DEAD_LETTER_BYTES = 256 * 1024


def decode(
    msgs: list[Inbound | DeadLetter], max_bytes: int, partitions: int, dlq_topic: str
) -> list[tuple[str, list[Decoded] | list[Outbound]]]:
    """A batch of messages as one item per partition: its records, and its dead letters.

    `("partition-<p>", [Decoded, ...])` holds the actions and clock records of partition
    p in offset order; `("dlq-<p>", [Outbound, ...])` the messages it refuses, as
    records for the dead-letter topic, each saying why. One item per partition rather
    than per message: Bytewax's own work is per item, and it was half the flow's CPU.
    """
    records: dict[int, list[Decoded]] = {}
    letters: dict[int, list[Outbound]] = {}
    for msg in msgs:
        if type(msg) is DeadLetter:
            letter = msg
        else:
            partition = msg.partition  # type: ignore[union-attr]
            try:
                record = admitted_record(msg.value, partition, max_bytes, partitions)  # type: ignore[union-attr]
            except NotAdmitted as err:
                letter = DeadLetter(msg, err.reason, err.detail)  # type: ignore[arg-type]
            else:
                batch = records.get(partition)
                if batch is None:
                    batch = records[partition] = []
                batch.append(make(Decoded, (record, msg)))
                continue
        out = dead_letter_record(letter, dlq_topic, partitions)
        letters.setdefault(letter.partition, []).append(out)
    items: list[tuple[str, list[Decoded] | list[Outbound]]] = [
        (f"partition-{p}", batch) for p, batch in records.items()
    ]
    items.extend((f"dlq-{p}", batch) for p, batch in letters.items())
    return items


def is_records(key_batch: tuple[str, list[Decoded] | list[Outbound]]) -> bool:
    return key_batch[0].startswith("partition-")


@dataclass(frozen=True)
class Routes:
    """Where the game step writes, its timeouts, and the secret it checks tokens with (kept out of reprs)."""

    games_topic: str
    dlq_topic: str
    partitions: int
    secret: bytes | None = field(default=None, repr=False)
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def of(cls, settings: Settings) -> "Routes":
        return cls(
            settings.games_topic,
            settings.dlq_topic,
            settings.partitions,
            settings.secret_key,
            settings.limits,
        )


class GameLogic(StatefulBatchLogic[list[Decoded], list[Outbound] | Final, bytes]):
    """One game's authoritative state, kept as a `Game`; emits each new state as a `games` record.

    Items in and out are batches: a list of the game's records in log order, and one
    list of the records to write for them (states and dead letters), plus a `Final`.

    Encoding happens here, once per state, with an encoder that remembers what the
    game's states share; snapshots are the same wire JSON and the game's clock
    (`snapshot_of`). Once the game has ended and `evict_ms` of log time passed, it emits
    its final state for the archive and keeps nothing but the fact that it is over
    (an action for it then is dead-lettered `retired`): memory holds the live games and
    a small marker per ended one.
    Never raises: an exception in a stateful step would crash-loop the flow on the same
    action, so a failure of the rules dead-letters the action and keeps the state.
    """

    __slots__ = ("_encoder", "_game", "_key", "_partition", "_retired", "_routes")

    def __init__(self, game: Game | None, routes: Routes, retired: bool = False) -> None:
        self._game = game
        self._routes = routes
        self._retired = retired
        self._encoder: StateEncoder | None = None if retired else StateEncoder()
        # where every state of this game goes: set with its first state, never changed
        self._partition = 0
        self._key = b""
        if game is not None:
            self._address(game.arena.game_id)

    @classmethod
    def builder(cls, routes: Routes, resume: bytes | None) -> "GameLogic":
        if resume == RETIRED:
            return cls(None, routes, retired=True)
        return cls(None if resume is None else game_of_snapshot(resume), routes)

    def on_batch(self, values: list[list[Decoded]]) -> tuple[list[list[Outbound] | Final], bool]:
        """Each record applied in order: one list of the new states' records (or dead letters), the final state."""
        out: list[Outbound] = []
        finals: list[Final] = []
        for batch in values:
            for decoded in batch:
                self._apply(decoded, out, finals)
        emitted: list[list[Outbound] | Final] = [out] if out else []
        emitted.extend(finals)
        # nothing to keep if the game never started (a clock record alone starts nothing)
        return emitted, self._game is None and not self._retired

    def _apply(self, decoded: Decoded, out: list[Outbound], finals: list[Final]) -> None:
        record, routes = decoded.action, self._routes
        if self._retired:
            if type(record) is not Tick:
                letter = DeadLetter(decoded.source, "retired", "the game has ended and is archived")
                out.append(dead_letter_record(letter, routes.dlq_topic, routes.partitions))
            return
        now = decoded.source.timestamp
        try:
            game = self._game
            if game is None:
                if type(record) is Tick:
                    return
                game = self._start(record.game_id, now)  # type: ignore[union-attr]
            nxt = next_record(game, record, now, routes.limits, routes.secret)
        except Exception as err:
            letter = DeadLetter(decoded.source, "rules_error", f"{type(err).__name__}: {err}"[:300])
            out.append(dead_letter_record(letter, routes.dlq_topic, routes.partitions))
            return
        self._game = nxt
        if nxt.version != game.version:
            assert self._encoder is not None
            state = self._encoder.encode(nxt)
            out.append(make(Outbound, (routes.games_topic, self._partition, self._key, state, ())))
        if nxt.clock.ended is not None and is_evictable(nxt, routes.limits):
            assert self._encoder is not None
            final = snapshot_of(self._encoder.encode(nxt), nxt.clock)
            finals.append(Final(nxt.arena.game_id, final))
            self._game, self._encoder, self._retired = None, None, True

    def _start(self, game_id: int, now: int) -> Game:
        self._address(game_id)
        return started(game_id, now)

    def _address(self, game_id: int) -> None:
        self._partition = partition_for(game_id, self._routes.partitions)
        self._key = game_key(game_id)

    def snapshot(self) -> bytes:
        if self._retired:
            return RETIRED
        assert self._game is not None and self._encoder is not None
        return snapshot_of(self._encoder.encode(self._game), self._game.clock)


@operator
def game_state(
    step_id: str, up: KeyedStream[list[Decoded]], builder: Callable[[bytes | None], GameLogic]
) -> KeyedStream[list[Outbound] | Final]:
    """`op.stateful_batch` under the step id `op.stateful` gave it: stores keep resuming.

    Earlier versions used `op.stateful`, which nests its state as
    `<flow>.<step_id>.stateful_batch`; the game logic is batch-native now, and this
    wrapper keeps the recovery data's step id (and so every existing store) unchanged.
    """
    return op.stateful_batch("stateful_batch", up, builder)


def dead_letter_record(letter: DeadLetter, topic: str, partitions: int) -> Outbound:
    """A dead letter as a DLQ message: the original bytes, the reason in headers (see docs)."""
    source = letter.source
    headers: tuple[tuple[str, bytes], ...] = (
        (REASON_HEADER, letter.reason.encode()),
        (DETAIL_HEADER, letter.detail.encode()),
    )
    if source is None:
        return Outbound(topic, 0, None, None, headers)
    where = f"{source.topic}/{source.partition}/{source.offset}".encode()
    headers = (*headers, (SOURCE_HEADER, where))
    cut = [
        f"{name}:{len(data)}"
        for name, data in (("key", source.key), ("value", source.value))
        if data is not None and len(data) > MAX_DEAD_LETTER_BYTES
    ]
    if cut:
        headers = (*headers, (TRUNCATED_HEADER, ",".join(cut).encode()))
    return Outbound(
        topic,
        source.partition % partitions,
        _bounded(source.key),
        _bounded(source.value),
        headers,
    )


def _bounded(data: bytes | None) -> bytes | None:
    return data if data is None else data[:MAX_DEAD_LETTER_BYTES]


def unwrapped(
    batch: list[tuple[str, tuple[str, list[Decoded]]]],
) -> list[tuple[str, list[Decoded]]]:
    """The roster's items keyed by game: one Python call a batch (`op.key_rm` is one an item)."""
    return [item for _, item in batch]


def is_final(key_item: tuple[str, list[Outbound] | Final]) -> bool:
    return type(key_item[1]) is Final


def build_flow(
    source: Source[Inbound | DeadLetter],
    sink: Sink[tuple[str, list[Outbound]]],
    settings: Settings,
    archive: Sink[tuple[str, Final]] | None = None,
) -> Dataflow:
    """The dataflow from `source` to `sink` (and `archive`); the Kafka edges or bytewax's testing ones.

    With `settings.secret` every action needs its player's join token (else `bad_token`).
    Its items are batches, not actions: one per partition of each batch the source
    reads, then one per game of it; Bytewax's work per item is then shared by the
    actions of a batch, and the flow's cost is the rules' (docs/benchmarks.md).
    Without an `archive`, the final states of evicted games are only on `games`.
    """
    P = settings.partitions
    flow = Dataflow(FLOW_ID)
    inbound = op.input(INPUT_STEP, flow, source)
    # Inbound | DeadLetter (consumer errors)
    decoded = op.flat_map_batch(
        "decode",
        inbound,
        partial(
            decode, max_bytes=settings.max_action_bytes, partitions=P, dlq_topic=settings.dlq_topic
        ),
    )
    # ("partition-<p>", [Decoded]) | ("dlq-<p>", [Outbound to actions.dlq])
    valid = op.branch("valid", decoded, is_records)
    roster = op.stateful_batch(
        ROSTER_STEP, valid.trues, partial(RosterLogic.builder, settings.limits)
    )
    routed: KeyedStream[list[Decoded]] = op.flat_map_batch("routed", roster, unwrapped)
    # (str(game_id), [Decoded]): the game's actions, and clock records that reach it
    states = game_state(STATE_STEP, routed, partial(GameLogic.builder, Routes.of(settings)))
    # (str(game_id), [Outbound to games[g mod P] or actions.dlq] | Final of an evicted game)
    finals = op.branch("final", states, is_final)
    if archive is not None:
        op.output("archive_out", finals.trues, archive)
    op.output("kafka_out", op.merge("outbound", finals.falses, valid.falses), sink)
    return flow


def kafka_flow(settings: Settings) -> Dataflow:
    """The flow on the real topics of `settings` (no connection until bytewax builds the parts)."""
    from dataflows import metrics
    from dataflows.archive import ArchiveSink
    from dataflows.sink import RoutedSink
    from dataflows.source import ActionsSource
    from infra.kafka import consumer_config, producer_config

    metrics.publish(settings.data_dir / "metrics")  # served by the API's /metrics
    source = ActionsSource(consumer_config(settings), settings.actions_topic, settings.partitions)
    sink = RoutedSink(
        producer_config(settings),
        settings.partitions,
        (settings.games_topic, settings.dlq_topic),
    )
    return build_flow(source, sink, settings, ArchiveSink(settings.archive_path))


def __getattr__(name: str) -> Dataflow:
    """Build `flow` on first access: `bytewax.run` is the entrypoint, so the env is read here."""
    if name != "flow":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    recovery_dir = os.environ.get("BYTEWAX_RECOVERY_DIRECTORY")
    if recovery_dir:
        prepare_recovery_dir(Path(recovery_dir))
    settings = Settings()
    built = kafka_flow(settings)
    start_clock(settings)
    globals()["flow"] = built
    collect_rarely()
    return built


def start_clock(settings: Settings) -> None:
    """Write clock records for as long as this process runs (dataflows/ticker.py)."""
    from dataflows.ticker import Ticker
    from infra.kafka import producer_config

    config = producer_config(settings)
    Ticker(config, settings.actions_topic, settings.partitions, settings.tick_interval_s).start()


def collect_rarely() -> None:
    """Tune the garbage collector for a process that allocates a few objects per action.

    States, actions and records form no reference cycles, yet with the default
    thresholds the collector ran every ~70 actions and, every few hundred, walked every
    live object (all games, all modules): 16% of the flow's CPU in a profile
    (docs/benchmarks.md). Objects loaded at start-up are frozen out of collections.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
