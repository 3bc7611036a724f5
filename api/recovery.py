"""What Bytewax 0.21's SQLite recovery partitions hold, read without running Bytewax.

Each `part-N.sqlite3` has `parts`, `exs`, `fronts`, `commits` and `snaps` tables
(see docs/query.md). Recovery resumes from an epoch computed from the progress of
every partition and restores, per (step, key), the newest snapshot strictly before
it; this module mirrors those rules and decodes snapshots without running their code.
"""

import io
import pickle
import sqlite3
from collections.abc import Iterable
from pathlib import Path

TABLES = {
    "parts": {"part_index", "part_count"},
    "exs": {"ex_num", "worker_count", "resume_epoch"},
    "fronts": {"ex_num", "worker_index", "worker_frontier"},
    "commits": {"part_index", "commit_epoch"},
    "snaps": {"step_id", "state_key", "snap_epoch", "ser_change", "created_at"},
}
FIRST_EPOCH = 1  # Bytewax's resume epoch when nothing has been recorded yet


class NoStore(Exception):
    """No recovery store yet: the directory is missing, holds no partitions, or is being created."""


class NotARecoveryStore(Exception):
    """A file that is not a Bytewax recovery partition (corrupt, foreign, or another dataflow's)."""


def open_partition(path: Path) -> sqlite3.Connection:
    """`path` opened read-only (the dataflow may be writing it), its schema checked."""
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
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


def resume_epoch(
    exs: Iterable[tuple[int, int, int]], fronts: Iterable[tuple[int, int, int]]
) -> int:
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


class _NoGlobals(pickle.Unpickler):
    """Loads only pickles of plain values: any class or function reference is refused."""

    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the recovery store")


def snapshot_bytes(ser_change: bytes) -> bytes | None:
    """The bytes a StatefulLogic's `snapshot()` returned, or None if the blob is anything else.

    Bytewax pickles whatever `snapshot()` returns; our dataflow returns JSON bytes, whose
    pickle references no global, so nothing in the store can make us run code.
    """
    try:
        value = _NoGlobals(io.BytesIO(ser_change)).load()
    except Exception:  # any malformed or refused pickle just means "not ours"
        return None
    return value if isinstance(value, bytes) else None
