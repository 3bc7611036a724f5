"""Crash-safety soak: drive many games through the real dataflow, SIGKILL it at random, check nothing is lost.

The full run (figures in docs/reliability.md), on its own embedded broker:

    python -m bench.soak --games 200 --actions 50000 --kills 10 --workers 4
    python -m bench.soak --games 200 --actions 50000 --kills 10 --workers 2 --processes 2

tests/test_soak.py runs shorter ones in CI. The oracle is the pure fold: every state
read back from `games` must equal folding the game's actions up to its version. A
witness, the dataflow's own source run beside it, must have read live every action the
log holds: if it did and the flow did not apply one, the flow lost it.
"""

import argparse
import itertools
import json
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from bench.workload import Message, fresh_settings, realistic_games
from dataflows import launch
from dataflows.process import Process
from dataflows.records import REASON_HEADER, SOURCE_HEADER, Inbound
from dataflows.source import ActionsSource
from domain.models import Action, Tick
from domain.rules import new_game, next_state
from domain.wire import InvalidMessage, decode_action, decode_record, decode_state, encode_action
from infra.broker import EmbeddedBroker, free_port
from infra.kafka import (
    consumer_config,
    game_key,
    partition_for,
    produce_patiently,
    producer_config,
)
from infra.recovery import stored_offsets
from infra.settings import Settings


@dataclass(frozen=True)
class StateMessage:
    timestamp_ms: int
    game_id: int
    version: int
    value: bytes


class GamesLog:
    """Every message of `games` from the start, with its producer timestamp; `poll()` reads more."""

    def __init__(self, settings: Settings, keep: bool = True) -> None:
        self.keep = keep  # False: only count (long memory runs would hold every state)
        self.count = 0
        self.messages: list[StateMessage] = []
        self.best: dict[int, int] = {}
        self.latest_ms = 0
        self.grew_at = time.monotonic()  # when the last state was read
        self._consumer = Consumer(consumer_config(settings))
        self._consumer.assign(
            [TopicPartition(settings.games_topic, p, 0) for p in range(settings.partitions)]
        )

    def poll(self, timeout_s: float = 0.05) -> int:
        got = 0
        for msg in self._consumer.consume(10_000, timeout_s):
            if msg.error() is not None:
                continue
            value = msg.value()
            head = json.loads(value)
            game, version = head["game_id"], head["version"]
            if self.keep:
                self.messages.append(StateMessage(msg.timestamp()[1], game, version, value))
            self.count += 1
            self.best[game] = max(self.best.get(game, 0), version)
            self.latest_ms = max(self.latest_ms, msg.timestamp()[1])
            got += 1
        if got:
            self.grew_at = time.monotonic()
        return got

    def reached(self, final_versions: dict[int, int]) -> bool:
        return all(self.best.get(g, 0) >= v for g, v in final_versions.items())

    def close(self) -> None:
        self._consumer.close()


class Cluster:
    """One dataflow process with `-w workers`, or `processes` of them joined with -i/-a."""

    def __init__(self, settings: Settings, log_dir: Path, workers: int, processes: int) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.workers = workers
        self.processes = processes
        self.running: list[Process] = []
        self.starts = 0

    def start(self) -> None:
        name = f"dataflow-{self.starts}"
        self.running = launch.start_cluster(
            self.settings, self.log_dir, self.processes, self.workers, name
        )
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL every process at once (a host crash), then reap them."""
        for flow in self.running:
            flow.signal_group(signal.SIGKILL)
        for flow in self.running:
            flow.process.wait()
        self.running = []

    def kill_in_turn(self) -> None:
        """SIGKILL the processes one after the other, each reaped before the next is killed."""
        for flow in self.running:
            flow.kill()
        self.running = []

    def kill_one(self, grace_s: float = 15.0) -> None:
        """SIGKILL the first process only (one host crashes); the others must exit by themselves."""
        first, *others = self.running
        first.kill()
        deadline = time.monotonic() + grace_s
        for flow in others:
            flow.wait_or_kill(max(0.0, deadline - time.monotonic()))
        self.running = []

    def raise_if_exited(self) -> None:
        for flow in self.running:
            flow.raise_if_exited()

    def pids(self) -> list[int]:
        return [flow.pid for flow in self.running]


class ActionFeed:
    """Produces actions as clients do (game g to partition g mod P) at a steady rate, in a thread.

    With `writers` > 1, each player's actions go through one of that many producers
    (each its own connection, as each player's client is), so several producers append
    to every partition at once and a game's actions may land in another order than
    `actions` lists them: the oracle is then the order the log holds (`in_log_order`).
    """

    def __init__(
        self,
        settings: Settings,
        actions: Iterable[Action],
        rate: float,
        linger_ms: float = 1,
        writers: int = 1,
    ) -> None:
        self.settings = settings
        self.actions = actions
        self.rate = rate
        self.linger_ms = linger_ms  # how long the producer gathers a partition's actions in a batch
        self.writers = writers
        self.sent = 0
        self.error: BaseException | None = None
        self.failures: list[str] = []  # deliveries the broker refused: those actions are not in
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "ActionFeed":
        self._thread.start()
        return self

    def done(self) -> bool:
        if self.error is not None:
            raise self.error
        if self.failures:
            raise AssertionError(f"{len(self.failures)} actions not delivered: {self.failures[:3]}")
        return not self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        try:
            config = producer_config(
                self.settings, **{"linger.ms": self.linger_ms, "on_delivery": self._delivered}
            )
            producers = [Producer(config) for _ in range(self.writers)]
            started = time.monotonic()
            for i, action in enumerate(self.actions):
                ahead = i / self.rate - (time.monotonic() - started)
                if ahead > 0 and self._stop.wait(ahead):  # pacing, not waiting for a condition
                    return
                producer = producers[
                    zlib.crc32(f"{action.game_id}/{action.player}".encode()) % self.writers
                ]
                producer.poll(0)
                partition = partition_for(action.game_id, self.settings.partitions)
                value, key = encode_action(action), game_key(action.game_id)
                produce_patiently(producer, self.settings.actions_topic, value, key, partition)
                self.sent = i + 1
            if any(producer.flush(120) != 0 for producer in producers):
                raise RuntimeError("actions not delivered within 120 s")
        except BaseException as err:
            self.error = err

    def _delivered(self, err: KafkaError | None, msg: Any) -> None:
        if err is not None:
            self.failures.append(f"{msg.topic()}[{msg.partition()}]: {err}")


class SourceWitness:
    """The dataflow's own source, run beside it in a thread: what a live reader of `actions` gets.

    It records each message's offset and a checksum of its bytes. Set against a fresh
    read of the log once the feed is done, it tells a broker that served a live reader
    something else (other bytes, or offsets passed over) from a flow that lost what its
    source read: the flow and the witness read the same way, through `ActionsSource`.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.seen: dict[int, dict[int, int]] = {p: {} for p in range(settings.partitions)}
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "SourceWitness":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        settings = self.settings
        try:
            source = ActionsSource(
                consumer_config(settings), settings.actions_topic, settings.partitions
            )
            parts = {p: source.build_part("witness", str(p), None) for p in self.seen}
            while not self._stop.is_set():
                got = 0
                for p, part in parts.items():
                    for item in part.next_batch():
                        if isinstance(item, Inbound) and not is_clock_record(item.value):
                            self.seen[p].setdefault(item.offset, zlib.crc32(item.value or b""))
                            got += 1
                if not got:
                    self._stop.wait(0.005)  # nothing fetched yet: poll again shortly
        except BaseException as err:
            self.error = err

    def read(self) -> int:
        return sum(len(offsets) for offsets in self.seen.values())

    def catch_up(self, total: int, timeout_s: float = 30.0) -> None:
        """Wait until the witness has read `total` messages (the log's), then stop it."""
        deadline = time.monotonic() + timeout_s
        while self.read() < total and self.error is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the witness's thread is reading
        self.stop()

    def disagreement(self, partition: int, logged: list[Message]) -> str | None:
        """How what the witness read live of `partition` differs from `logged`, a fresh read."""
        if self.error is not None:
            return f"the witness failed: {self.error!r}"
        seen = dict(self.seen[partition])
        held = {
            m.offset: zlib.crc32(m.value or b"") for m in logged if not is_clock_record(m.value)
        }
        unseen = sorted(set(held) - set(seen))
        unheld = sorted(set(seen) - set(held))
        other = sorted(o for o in set(seen) & set(held) if seen[o] != held[o])
        if not (unseen or unheld or other):
            return None
        return (
            f"the witness read {len(seen)} messages live: {len(unseen)} the log holds it never got "
            f"{unseen[:10]}, {len(unheld)} the log does not hold {unheld[:10]}, "
            f"{len(other)} with other bytes {other[:10]}"
        )


@dataclass
class SoakReport:
    games: int
    actions: int
    workers: int
    processes: int
    writers: int = 1
    kills: int = 0
    kill_times: list[float] = field(default_factory=list)
    start_times: list[float] = field(default_factory=list)
    states_read: int = 0
    distinct_states: int = 0
    resume_s: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    witness_read: int = 0  # actions a live ActionsSource beside the flow read as the log holds them

    @property
    def duplicates(self) -> int:
        return self.states_read - self.distinct_states

    def summary(self) -> str:
        def stats(xs: list[float]) -> str:
            if not xs:
                return "n/a"
            return f"median {statistics.median(xs):.2f} s, max {max(xs):.2f} s"

        layout = f"-w {self.workers}" + (
            f" x {self.processes} processes (-i/-a)" if self.processes > 1 else ""
        )
        if self.writers > 1:
            layout += f", {self.writers} producers feeding"
        return (
            f"soak {layout}: {self.games} games, {self.actions} actions, "
            f"{self.kills} SIGKILLs survived in {self.elapsed_s:.0f} s; "
            f"{self.states_read} states read, {self.distinct_states} distinct, "
            f"{self.duplicates} re-emitted (all byte-identical); "
            f"first state written after a kill: {stats(self.resume_s)}; "
            f"a live source beside the flow read {self.witness_read} actions, as the log holds them"
        )


def run_soak(
    settings: Settings,
    log_dir: Path,
    games: int,
    actions: int,
    kills: int,
    workers: int = 4,
    processes: int = 1,
    seed: int = 7,
    rate: float | None = None,
    gap_s: tuple[float, float] = (0.5, 4.0),
    timeout_s: float = 600.0,
    kill_mode: str = "all",
    writers: int = 1,
    say=lambda line: None,
) -> SoakReport:
    """Produce `actions` at `rate`/s while killing the dataflow `kills` times; verify; report.

    Each kill lands a seeded random `gap_s` after the restarted flow wrote its first
    state, so every kill hits a flow that is running, mid-epoch. `writers` producers
    share the feed (see `ActionFeed`); the fold follows the order `actions` holds.
    """
    rng = random.Random(seed)
    script = realistic_games(games, actions, seed)
    final: dict[int, int] = {}
    for action in script:
        final[action.game_id] = final.get(action.game_id, 0) + 1
    if rate is None:  # spread production over the expected kill cycles
        rate = max(200.0, actions / (kills * (sum(gap_s) / 2 + 4.0) + 1))
    report = SoakReport(games, actions, workers, processes, writers)
    deadline = time.monotonic() + timeout_s
    log = GamesLog(settings)
    cluster = Cluster(settings, log_dir, workers, processes)
    producer = ActionFeed(settings, script, rate, writers=writers)
    witness = SourceWitness(settings).start()
    started = time.monotonic()
    try:
        cluster.start()
        report.start_times.append(time.time())
        producer.start()
        while report.kills < kills:
            # wait for the (re)started flow's first state, then a random while, then kill;
            # once every action is applied and committed, a restarted flow writes nothing
            while log.latest_ms < report.start_times[-1] * 1000 and not (
                producer.done() and log.reached(final)
            ):
                _check(deadline, cluster, producer, log)
            kill_at = time.monotonic() + rng.uniform(*gap_s)
            while time.monotonic() < kill_at:
                _check(deadline, cluster, producer, log)
            report.kill_times.append(time.time())
            {"all": cluster.kill, "one": cluster.kill_one, "in-turn": cluster.kill_in_turn}[
                kill_mode
            ]()
            report.kills += 1
            say(f"kill {report.kills}: {producer.sent} actions sent, {len(log.messages)} states")
            cluster.start()
            report.start_times.append(time.time())
        while not (producer.done() and log.reached(final)):
            _check(deadline, cluster, producer, log)
            if producer.done():
                _check_progress(settings, log, final, witness)
        cluster.raise_if_exited()
        witness.catch_up(sum(final.values()))
    finally:
        producer.stop()
        witness.stop()
        cluster.kill()
        log.close()
    report.elapsed_s = time.monotonic() - started
    logged = actions_log(settings)
    by_game = in_log_order(logged)
    assert {g: len(a) for g, a in by_game.items()} == final, "actions lost on the way in"
    for partition, messages in logged.items():
        said = witness.disagreement(partition, messages)
        assert said is None, f"actions[{partition}]: {said}"
    report.witness_read = witness.read()
    try:
        verify(by_game, log.messages, report)
    except MissingVersions as err:
        # Lost, or only missed by the live reader? The log itself says.
        found = versions_in_log(settings, err.game, err.versions)
        raise AssertionError(
            f"{err}; a fresh read of the partition finds {sorted(found) or 'none'} of them"
        ) from None
    return report


def actions_log(settings: Settings) -> dict[int, list[Message]]:
    """Every partition of `actions`, read anew from offset 0.

    Read once the feed has finished: no producer writes meanwhile, so no fetch can skip
    a batch still being stored (infra/gaps.py) and a plain reader sees all.
    """
    return {
        partition: read_partition(settings, settings.actions_topic, partition)
        for partition in range(settings.partitions)
    }


def is_clock_record(value: bytes | None) -> bool:
    """Whether a message of `actions` is the dataflow's clock record, which the live
    witness may or may not see before it stops (the clock keeps writing)."""
    try:
        return isinstance(decode_record(value), Tick)
    except InvalidMessage:
        return False


def in_log_order(log: dict[int, list[Message]]) -> dict[int, list[Action]]:
    """Each game's actions in the order its partition holds them: the order they are applied."""
    by_game: dict[int, list[Action]] = {}
    for messages in log.values():
        for msg in messages:
            action = decode_record(msg.value)
            if isinstance(action, Tick):
                continue  # the dataflow's clock record: no game's action
            by_game.setdefault(action.game_id, []).append(action)
    return by_game


def _check_progress(
    settings: Settings,
    log: GamesLog,
    final: dict[int, int],
    witness: SourceWitness | None = None,
    stall_s: float = 60.0,
) -> None:
    """Once all actions are in, states must keep coming until every game is at its end.

    A stall says whether the flow has read every action (then some were skipped: lost)
    or not (then it, or the broker, is stuck).
    """
    if time.monotonic() - log.grew_at > stall_s:
        short = {g: (log.best.get(g, 0), v) for g, v in final.items() if log.best.get(g, 0) < v}
        shown = ", ".join(
            f"game {g} at {got} of {want}" for g, (got, want) in list(short.items())[:5]
        )
        read = sum(stored_offsets(settings.recovery_dir).values())
        raise AssertionError(
            f"no new state for {stall_s:.0f} s, {len(short)} games short ({shown}); "
            f"the flow has committed reading {read} of {sum(final.values())} actions; "
            + explain_stall(settings, {g: want for g, (_, want) in short.items()}, witness)
        )


def _check(deadline: float, cluster: Cluster, producer: ActionFeed, log: GamesLog) -> None:
    if time.monotonic() > deadline:
        raise AssertionError(f"soak timed out: {producer.sent} sent, {len(log.messages)} states")
    producer.done()  # re-raises a producer failure
    cluster.raise_if_exited()
    log.poll()


def verify(
    by_game: dict[int, list[Action]], messages: list[StateMessage], report: SoakReport
) -> None:
    """The promises: duplicates byte-identical, versions 1..n per game, each equal to the fold."""
    seen: dict[tuple[int, int], bytes] = {}
    for msg in messages:
        key = (msg.game_id, msg.version)
        if seen.setdefault(key, msg.value) != msg.value:
            raise AssertionError(
                f"game {key[0]} version {key[1]} re-emitted differently:\n"
                f"{_outcomes(by_game, messages, key, report)}"
            )
    report.states_read = len(messages)
    report.distinct_states = len(seen)
    versions: dict[int, list[int]] = {}
    for g, v in seen:
        versions.setdefault(g, []).append(v)
    assert set(versions) == set(by_game), "games without any state, or states of unknown games"
    for g, game_actions in by_game.items():
        got = sorted(versions[g])
        if got != list(range(1, len(game_actions) + 1)):
            missing = sorted(set(range(1, len(game_actions) + 1)) - set(got))
            raise MissingVersions(g, missing, len(game_actions))
        state = new_game(g)
        for version, action in enumerate(game_actions, start=1):
            state = next_state(state, action)
            if decode_state(seen[(g, version)]) != state:
                raise AssertionError(f"game {g} version {version} differs from the fold")
    resume_times(messages, report)


class MissingVersions(AssertionError):
    """Versions of a game that no state read during the run carried."""

    def __init__(self, game: int, versions: list[int], total: int) -> None:
        super().__init__(f"game {game}: versions missing {versions[:10]} of {total}")
        self.game = game
        self.versions = versions


def versions_in_log(settings: Settings, game: int, versions: list[int]) -> set[int]:
    """Which of `versions` of `game` its `games` partition holds, read anew from offset 0."""
    partition = partition_for(game, settings.partitions)
    found = set()
    for msg in read_partition(settings, settings.games_topic, partition):
        head = json.loads(msg.value)
        if head["game_id"] == game and head["version"] in versions:
            found.add(head["version"])
    return found


def read_partition(settings: Settings, topic: str, partition: int) -> list[Message]:
    """Every message of one partition, from offset 0 to its end at the time of reading."""
    consumer = Consumer(consumer_config(settings, **{"enable.partition.eof": True}))
    consumer.assign([TopicPartition(topic, partition, 0)])
    messages: list[Message] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            for msg in consumer.consume(10_000, 1.0):
                error = msg.error()
                if error is None:
                    headers = dict(msg.headers() or [])
                    messages.append(
                        Message(partition, msg.offset(), msg.key(), msg.value(), headers)
                    )
                elif error.code() == KafkaError._PARTITION_EOF:
                    return messages
    finally:
        consumer.close()
    raise AssertionError(f"{topic}[{partition}] not read to its end in 60 s")


def explain_stall(
    settings: Settings, short: dict[int, int], witness: SourceWitness | None = None
) -> str:
    """Where games that stopped short lost their way, from fresh reads of the first one's partition.

    `short` maps each short game to its number of actions. Per game of that partition:
    the offset of the first action whose state is missing or differs from the fold (the
    action the flow did not apply); beside them the partition's offset holes, messages
    that are not actions, and dead letters with the offset they came from. A dead letter
    there means the flow refused what the log holds; none means the flow lost it.
    """
    partition = partition_for(next(iter(short)), settings.partitions)
    actions = read_partition(settings, settings.actions_topic, partition)
    offsets = [msg.offset for msg in actions]
    holes = [(a + 1, b - 1) for a, b in itertools.pairwise(offsets) if b != a + 1]
    logged: dict[int, list[tuple[int, Action]]] = {}
    strangers = 0
    for msg in actions:
        try:
            action = decode_action(msg.value)
        except InvalidMessage:
            strangers += 1
            continue
        logged.setdefault(action.game_id, []).append((msg.offset, action))
    states: dict[tuple[int, int], bytes] = {}
    for msg in read_partition(settings, settings.games_topic, partition):
        if msg.value is not None:  # the sink never writes a null state; be plain if it did
            head = json.loads(msg.value)
            states.setdefault((head["game_id"], head["version"]), msg.value)
    skipped = {
        game: _first_unapplied(game, logged.get(game, []), states)
        for game in short
        if partition_for(game, settings.partitions) == partition
    }
    dead = [
        f"{m.headers.get(REASON_HEADER, b'?').decode()} {m.headers.get(SOURCE_HEADER, b'').decode()}"
        for m in read_partition(settings, settings.dlq_topic, partition)
    ]
    live = ""
    if witness is not None:
        witness.stop()
        same = f"the witness read the same {len(actions)} messages live"
        live = "; " + (witness.disagreement(partition, actions) or same)
    return (
        f"actions[{partition}]: {len(actions)} messages, offsets "
        f"{offsets[0] if offsets else '-'} to {offsets[-1] if offsets else '-'}, holes "
        f"{holes[:5] or 'none'}, {strangers} not actions; first unapplied action (offset) per "
        f"short game: {skipped}; actions.dlq[{partition}] holds {len(dead)}: {dead[:10]}"
        f"{live}"
    )


def _first_unapplied(
    game: int, logged: list[tuple[int, Action]], states: dict[tuple[int, int], bytes]
) -> int | None:
    """Offset of the first of the game's actions whose state is not on `games` as the fold says."""
    state = new_game(game)
    for version, (offset, action) in enumerate(logged, start=1):
        state = next_state(state, action)
        got = states.get((game, version))
        if got is None or decode_state(got) != state:
            return offset
    return None


def _outcomes(
    by_game: dict[int, list[Action]],
    messages: list[StateMessage],
    key: tuple[int, int],
    report: SoakReport,
) -> str:
    """Every copy of (game, version) read, with the run that wrote it, and what the fold says."""
    game, version = key
    lines = []
    for msg in messages:
        if (msg.game_id, msg.version) == key:
            run = sum(1 for t in report.start_times if t * 1000 <= msg.timestamp_ms)
            last = decode_state(msg.value).last
            lines.append(f"  run {run} at {msg.timestamp_ms}: {last}")
    want = new_game(game)
    for action in by_game[game][:version]:
        want = next_state(want, action)
    lines.append(f"  fold: {want.last}")
    return "\n".join(lines)


def resume_times(messages: list[StateMessage], report: SoakReport) -> None:
    """Per kill: seconds from the SIGKILL to the first state the restarted flow wrote.

    A kill of an idle flow (all actions applied, the epoch committed) has none.

    Producer timestamps tell which run wrote a state: the restarted one writes only
    after it was started. (Its first states are the replay of the unfinished epoch.)
    """
    stamps = sorted(m.timestamp_ms for m in messages)
    for killed, restarted in zip(report.kill_times, report.start_times[1:], strict=False):
        first = next((t for t in stamps if t >= restarted * 1000), None)
        if first is not None:
            report.resume_s.append(first / 1000 - killed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--games", type=int, default=200)
    parser.add_argument("--actions", type=int, default=50_000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--workers", "-w", type=int, default=4)
    parser.add_argument("--processes", type=int, default=1, help="> 1 runs them with -i/-a")
    parser.add_argument("--partitions", type=int, default=10)
    parser.add_argument("--snapshot-interval", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=None, help="actions per second")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--kill-mode",
        choices=["all", "one", "in-turn"],
        default="all",
        help="all: SIGKILL every process at once; one: only process 0, the others exit alone; "
        "in-turn: one after the other, each reaped first",
    )
    parser.add_argument(
        "--writers",
        type=int,
        default=1,
        help="producers sharing the feed, each player's actions through one of them",
    )
    parser.add_argument("--keep", type=Path, help="keep logs and the recovery store here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="moba-soak-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        with EmbeddedBroker(port=free_port(), tied=True, log_path=root / "broker.log") as broker:
            settings = fresh_settings(
                broker.bootstrap_servers,
                root / "data",
                partitions=args.partitions,
                snapshot_interval_s=args.snapshot_interval,
            )
            report = run_soak(
                settings,
                root,
                args.games,
                args.actions,
                args.kills,
                workers=args.workers,
                processes=args.processes,
                seed=args.seed,
                rate=args.rate,
                timeout_s=3600,
                kill_mode=args.kill_mode,
                writers=args.writers,
                say=lambda line: print(line, flush=True),
            )
    print(report.summary())
    print("resume after each kill (s):", " ".join(f"{t:.2f}" for t in report.resume_s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
