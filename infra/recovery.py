"""Bytewax 0.21's SQLite recovery store: its layout, its rules, and how this project handles it.

The one home of that knowledge: the dataflow prepares the store here, `moba up` checks
it against the broker here, and the query side reads game states through it. Each
`part-N.sqlite3` recovery partition has `parts`, `exs`, `fronts`, `commits` and
`snaps` tables (docs/recovery.md). Recovery resumes from an epoch computed from the
progress of every partition and restores, per (step, key), the newest snapshot
strictly before it; this module mirrors those rules and decodes snapshots without
running their code. Importing it loads neither Bytewax nor Kafka: the query side
pays only for SQLite.
"""

import io
import pickle
import shutil
import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

from infra.lock import one_at_a_time

# Recovery data is labelled by these ids: renaming one orphans every existing store.
FLOW_ID = "moba"  # the dataflow's id: Bytewax prefixes each of its step ids with it
INPUT_STEP = "actions_in"  # the source; snapshots: next offset to read per `actions` partition
STATE_STEP = "game_state"  # the game step; snapshots: each game's wire JSON and clock
# the roster: games per partition of `actions`; snapshots: {game key: (latest time, marks passed)}
ROSTER_STEP = "roster"

TABLES = {
    "parts": {"part_index", "part_count"},
    "exs": {"ex_num", "worker_count", "resume_epoch"},
    "fronts": {"ex_num", "worker_index", "worker_frontier"},
    "commits": {"part_index", "commit_epoch"},
    "snaps": {"step_id", "state_key", "snap_epoch", "ser_change", "created_at"},
}
FIRST_EPOCH = 1  # Bytewax's resume epoch when nothing has been recorded yet

Execution = tuple[int, int, int]  # an `exs` row: ex_num, worker_count, resume_epoch
Frontier = tuple[int, int, int]  # a `fronts` row: ex_num, worker_index, worker_frontier


class NoStore(Exception):
    """No recovery store yet: the directory is missing, holds no partitions, or is being created."""


class NotARecoveryStore(Exception):
    """A file that is not a Bytewax recovery partition (corrupt, foreign, or another dataflow's)."""


def step_id(*path: str) -> str:
    """A step's id as the store labels its snapshots: the flow id, then the step path, dotted."""
    return ".".join((FLOW_ID, *path))


def is_own_step(step: str) -> bool:
    """Whether `step` belongs to this dataflow (every one of its step ids starts with its flow id)."""
    return step.startswith(step_id(""))


# Reading


def connect_read_only(path: Path) -> sqlite3.Connection:
    """`path` opened read-only, so a dataflow writing it is never disturbed."""
    uri = path.resolve().as_uri() + "?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)


def open_partition(path: Path) -> sqlite3.Connection:
    """`path` opened read-only (the dataflow may be writing it), its schema checked."""
    try:
        conn = connect_read_only(path)
    except sqlite3.Error as err:
        raise NotARecoveryStore(f"{path}: cannot open ({err})") from None
    try:
        if conn.execute("SELECT COUNT(*) FROM sqlite_schema").fetchone() == (0,):
            conn.close()
            raise NoStore(f"{path} is still being initialised")
        for table, columns in TABLES.items():
            found = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if not columns <= found:
                raise NotARecoveryStore(f"{path}: no Bytewax `{table}` table; not a recovery store")
    except sqlite3.Error as err:
        conn.close()
        raise NotARecoveryStore(f"{path}: not a SQLite recovery partition ({err})") from None
    except NotARecoveryStore:
        conn.close()
        raise
    return conn


def progress(conn: sqlite3.Connection) -> tuple[list[Execution], list[Frontier]]:
    """One partition's `exs` and `fronts` rows: what `resume_epoch` is computed from."""
    exs = conn.execute("SELECT ex_num, worker_count, resume_epoch FROM exs").fetchall()
    fronts = conn.execute("SELECT ex_num, worker_index, worker_frontier FROM fronts").fetchall()
    return exs, fronts


def resume_epoch(exs: Iterable[Execution], fronts: Iterable[Frontier]) -> int:
    """The epoch recovery would resume from, given every partition's `exs` and `fronts` rows.

    Bytewax's rule: in the latest execution, each worker has reached the larger of the
    execution's resume epoch and its own recorded frontier; the dataflow resumes from
    the smallest of those over all workers.
    """
    executions = {ex_num: (workers, resume) for ex_num, workers, resume in exs}
    if not executions:
        return FIRST_EPOCH
    latest = max(executions)
    workers, start = executions[latest]
    reached = dict.fromkeys(range(workers), start)
    for ex_num, worker, frontier in fronts:
        if ex_num == latest:
            reached[worker] = max(reached.get(worker, start), frontier)
    return min(reached.values())


def step_ids(conn: sqlite3.Connection) -> list[str]:
    """Every step id with snapshots in this partition (a skip-scan of the primary key index)."""
    found: list[str] = []
    while True:
        (step,) = conn.execute(
            "SELECT MIN(step_id) FROM snaps WHERE step_id > ?", (found[-1] if found else "",)
        ).fetchone()
        if step is None:
            return found
        found.append(step)


class _PlainValues(pickle.Unpickler):
    """Loads only pickles of plain values: any class or function reference is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the recovery store")


def unpickle_plain(ser_change: bytes) -> object:
    """What Bytewax pickled for a snapshot, refusing anything but plain values (no classes).

    Bytewax pickles whatever a step's `snapshot()` returns; this dataflow's steps return
    ints and bytes, whose pickles reference no global, so nothing in a store can make
    a reader run code.
    """
    return _PlainValues(io.BytesIO(ser_change)).load()


def snapshot_bytes(ser_change: bytes) -> bytes | None:
    """The bytes a step's `snapshot()` returned, or None if the blob is anything else."""
    try:
        value = unpickle_plain(ser_change)
    except Exception:  # any malformed or refused pickle just means "not ours"
        return None
    return value if isinstance(value, bytes) else None


def stored_offsets(directory: Path) -> dict[int, int]:
    """Next offset to read of each `actions` partition, per the store's latest input snapshot."""
    offsets: dict[int, int] = {}
    for part in sorted(directory.glob("*.sqlite3")):
        with closing(connect_read_only(part)) as db:
            rows = db.execute(
                """
                SELECT state_key, ser_change FROM snaps AS s
                WHERE step_id = ? AND ser_change IS NOT NULL
                  AND snap_epoch = (SELECT MAX(snap_epoch) FROM snaps
                                    WHERE step_id = s.step_id AND state_key = s.state_key)
                """,
                (step_id(INPUT_STEP),),
            ).fetchall()
        for key, blob in rows:
            offsets[int(key)] = max(offsets.get(int(key), 0), int(unpickle_plain(blob)))
    return offsets


# Checking and preparing, before the dataflow starts


def check_store(directory: Path) -> None:
    """Raise `NotARecoveryStore` unless every partition file is a store of this flow (or new).

    Bytewax would fail on a corrupt file with a traceback, and would happily resume from
    another dataflow's progress; neither is a store to start from.
    """
    for part in sorted(directory.glob("*.sqlite3")):
        try:
            with closing(connect_read_only(part)) as db:
                steps = step_ids(db)
        except sqlite3.DatabaseError as err:
            raise NotARecoveryStore(f"{part} is not a Bytewax recovery partition ({err})") from None
        foreign = sorted(step for step in steps if not is_own_step(step))
        if foreign:
            raise NotARecoveryStore(
                f"{part} holds another dataflow's recovery data (steps {', '.join(foreign[:3])})"
            )


def missing_offsets(config: dict[str, Any], topic: str, offsets: dict[int, int]) -> list[int]:
    """Partitions of `topic` whose log no longer holds the message just before the given offset.

    A recovery store that has read up to offset n of a partition expects message n-1
    to exist. High watermarks would be cheaper, but Tansu's undercount, so this fetches.
    """
    # Imported here: the query side reads the store through this module and never needs Kafka.
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({**config, "auto.offset.reset": "error", "enable.partition.eof": True})
    missing = []
    try:
        for partition, offset in sorted(offsets.items()):
            if offset <= 0:
                continue
            consumer.assign([TopicPartition(topic, partition, offset - 1)])
            msg = consumer.poll(10)
            if msg is None or msg.error() is not None or msg.offset() != offset - 1:
                missing.append(partition)
    finally:
        consumer.close()
    return missing


def prepare_recovery_dir(directory: Path, partitions: int = 1) -> bool:
    """Create and initialise `directory` if it holds no recovery partition yet; True if it did.

    An existing store is made safe to resume first (`discard_uncommitted`). A lock makes
    processes started together (-i/-a on one host) do either once.
    """
    with one_at_a_time(directory / ".init.lock"):
        if any(directory.glob("*.sqlite3")):
            discard_uncommitted(directory)
            return False
        # Imported here: Bytewax's runtime is for the dataflow, not for readers of the store.
        from bytewax.recovery import init_db_dir

        init_db_dir(directory, partitions)
        return True


def discard_uncommitted(directory: Path) -> int:
    """Delete snapshots of epochs at or after the resume epoch; how many rows went.

    A crashed execution may have snapshotted a step for epochs it never committed
    (`game_state` runs ahead of a sink still flushing, or of another process). Bytewax
    0.21.1 ignores those rows on this resume but keeps them, and once the re-run commits
    that epoch, a game the re-run did not touch in it resumes next time from the stale
    row: a state ahead of the restored input offsets, so actions are applied twice.
    Dropping them before bytewax starts leaves every key at its last committed snapshot.
    Call it before the dataflow starts (no worker writes yet; -i/-a peers wait to connect).
    """
    parts = sorted(directory.glob("*.sqlite3"))
    exs: list[Execution] = []
    fronts: list[Frontier] = []
    for part in parts:
        with closing(connect_read_only(part)) as db:
            part_exs, part_fronts = progress(db)
        exs += part_exs
        fronts += part_fronts
    if not exs:
        return 0
    resume = resume_epoch(exs, fronts)
    deleted = 0
    for part in parts:
        with closing(sqlite3.connect(part, timeout=30)) as db, db:
            deleted += db.execute("DELETE FROM snaps WHERE snap_epoch >= ?", (resume,)).rowcount
    return deleted


def move_aside(directory: Path) -> Path:
    """Rename a stale store to `<name>.stale-<timestamp>` (kept until the next one); the new path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = directory.with_name(f"{directory.name}.stale-{stamp}")
    n = 1
    while target.exists():  # two in one second: never rename onto the one kept
        n += 1
        target = directory.with_name(f"{directory.name}.stale-{stamp}-{n}")
    directory.rename(target)
    return target


def remove_older_aside(kept: Path) -> list[Path]:
    """Delete every store moved aside before `kept` (only the last is worth a look); those removed.

    A stale store is kept so its games can still be read (`moba games --data-dir`), but
    one per restart of an in-memory broker would pile up without end.
    """
    name = kept.name.partition(".stale-")[0]
    removed = []
    for older in sorted(kept.parent.glob(f"{name}.stale-*")):
        if older != kept and older.is_dir():
            shutil.rmtree(older)
            removed.append(older)
    return removed
