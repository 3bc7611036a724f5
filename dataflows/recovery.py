"""The recovery store on disk: initialise it, read where its input stopped, move it aside.

Bytewax writes the store (schema in docs/recovery.md); this module only prepares the
directory and reads the input offsets, so `moba up` can tell a store that matches the
broker's log from one left over by a broker that has since forgotten everything.
"""

import fcntl
import io
import pickle
import sqlite3
import time
from contextlib import closing
from pathlib import Path

FLOW_PREFIX = "moba."  # every step id of this dataflow starts with its flow id and a dot
INPUT_STEP = "moba.actions_in"  # the flow id, a dot, the input step id


class UnusableStore(RuntimeError):
    """A recovery directory this dataflow must not resume: unreadable, or another dataflow's."""


def check_store(directory: Path) -> None:
    """Raise `UnusableStore` unless every partition file is a Bytewax store of this flow (or new).

    Bytewax would fail on a corrupt file with a traceback, and would happily resume from
    another dataflow's progress; neither is a store to start from.
    """
    for part in sorted(directory.glob("*.sqlite3")):
        try:
            with closing(sqlite3.connect(f"file:{part}?mode=ro", uri=True)) as db:
                steps = [row[0] for row in db.execute("SELECT DISTINCT step_id FROM snaps")]
        except sqlite3.DatabaseError as err:
            raise UnusableStore(f"{part} is not a Bytewax recovery partition ({err})") from None
        foreign = sorted(step for step in steps if not step.startswith(FLOW_PREFIX))
        if foreign:
            raise UnusableStore(
                f"{part} holds another dataflow's recovery data (steps {', '.join(foreign[:3])})"
            )


def prepare_recovery_dir(directory: Path, partitions: int = 1) -> bool:
    """Create and initialise `directory` if it holds no recovery partition yet; True if it did.

    An existing store is made safe to resume first (`discard_uncommitted`). A lock makes
    processes started together (-i/-a on one host) do either once.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".init.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if any(directory.glob("*.sqlite3")):
            discard_uncommitted(directory)
            return False
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
    exs: list[tuple[int, int, int]] = []
    fronts: list[tuple[int, int, int]] = []
    for part in parts:
        with closing(sqlite3.connect(f"file:{part}?mode=ro", uri=True)) as db:
            exs += db.execute("SELECT ex_num, worker_count, resume_epoch FROM exs").fetchall()
            fronts += db.execute(
                "SELECT ex_num, worker_index, worker_frontier FROM fronts"
            ).fetchall()
    if not exs:
        return 0
    latest, workers, start = max(exs)
    reached = dict.fromkeys(range(workers), start)
    for ex_num, worker, frontier in fronts:
        if ex_num == latest:
            reached[worker] = max(reached.get(worker, start), frontier)
    resume = min(reached.values())
    deleted = 0
    for part in parts:
        with closing(sqlite3.connect(part, timeout=30)) as db, db:
            deleted += db.execute("DELETE FROM snaps WHERE snap_epoch >= ?", (resume,)).rowcount
    return deleted


def stored_offsets(directory: Path) -> dict[int, int]:
    """Next offset to read of each `actions` partition, per the store's latest input snapshot."""
    offsets: dict[int, int] = {}
    for part in sorted(directory.glob("*.sqlite3")):
        with sqlite3.connect(f"file:{part}?mode=ro", uri=True) as db:
            rows = db.execute(
                """
                SELECT state_key, ser_change FROM snaps AS s
                WHERE step_id = ? AND ser_change IS NOT NULL
                  AND snap_epoch = (SELECT MAX(snap_epoch) FROM snaps
                                    WHERE step_id = s.step_id AND state_key = s.state_key)
                """,
                (INPUT_STEP,),
            ).fetchall()
        for key, blob in rows:
            offsets[int(key)] = max(offsets.get(int(key), 0), int(unpickle_plain(blob)))
    return offsets


def unpickle_plain(blob: bytes) -> object:
    """What bytewax pickled for a snapshot, refusing anything but plain values (no classes)."""

    class PlainOnly(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> type:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    return PlainOnly(io.BytesIO(blob)).load()


def move_aside(directory: Path) -> Path:
    """Rename a stale store to `<name>.stale-<timestamp>` (kept, never deleted); the new path."""
    target = directory.with_name(f"{directory.name}.stale-{time.strftime('%Y%m%d-%H%M%S')}")
    directory.rename(target)
    return target
