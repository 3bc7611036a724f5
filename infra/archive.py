"""The archive of ended games: their final snapshots, once the dataflow has forgotten them.

One SQLite file, `<data_dir>/archive.sqlite3`, table `final(game_id, snapshot)`, written
by the dataflow's archive sink as it evicts games, read by `moba games` and the API
(api/store.py). Writing is idempotent (a replay after a crash evicts the same game with
the same final state), so a row is replaced, never duplicated.
"""

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from infra.lock import one_at_a_time

SCHEMA = "CREATE TABLE IF NOT EXISTS final (game_id INTEGER PRIMARY KEY, snapshot BLOB NOT NULL)"


def open_for_writing(path: Path) -> sqlite3.Connection:
    """The archive at `path`, created if missing, in WAL mode so readers never block the writer.

    Every worker of every dataflow process opens it at start-up, at the same moment.
    Turning a new file to WAL takes SQLite's exclusive lock without waiting for it (the
    busy timeout does not apply), so a second opener failed with "database is locked"
    and took its whole cluster down; they take turns on a lock file beside it instead.
    """
    with one_at_a_time(path.with_name(path.name + ".lock")):
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(SCHEMA)
    return conn


def archive(conn: sqlite3.Connection, finals: Iterable[tuple[int, bytes]]) -> None:
    """Store each (game_id, final snapshot), replacing an earlier row of the same game."""
    with conn:
        conn.executemany("INSERT OR REPLACE INTO final (game_id, snapshot) VALUES (?, ?)", finals)


def open_for_reading(path: Path) -> sqlite3.Connection | None:
    """The archive at `path` read-only, or None if no game has been archived there yet."""
    if not path.exists():
        return None
    uri = f"file:{path}?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)


def final_snapshot(conn: sqlite3.Connection, game_id: int) -> bytes | None:
    """The archived final snapshot of `game_id`, or None."""
    row = conn.execute("SELECT snapshot FROM final WHERE game_id = ?", (game_id,)).fetchone()
    return None if row is None else bytes(row[0])


def final_snapshots(
    conn: sqlite3.Connection, after: int = -1, limit: int | None = None
) -> list[tuple[int, bytes]]:
    """Archived games with an id above `after`, in id order, at most `limit` of them."""
    rows = conn.execute(
        "SELECT game_id, snapshot FROM final WHERE game_id > ? ORDER BY game_id LIMIT ?",
        (after, -1 if limit is None else limit),
    )
    return [(game_id, bytes(blob)) for game_id, blob in rows]
