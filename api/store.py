"""Game states as recovery would restore them: the query side's one source of truth.

`GameStore` opens every recovery partition read-only and answers per-game lookups
with one indexed query per partition, so it stays fast with many games and safe
while the dataflow keeps writing. A game the dataflow has evicted (ended, then
forgotten) is answered from the archive of final states (infra/archive.py).
"""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from pydantic import ValidationError

from domain.models import GameState
from domain.snapshots import RETIRED, state_of_snapshot
from infra.archive import final_snapshot, final_snapshots, open_for_reading
from infra.recovery import (
    FLOW_ID,
    Execution,
    Frontier,
    NoStore,
    NotARecoveryStore,
    is_own_step,
    open_partition,
    progress,
    resume_epoch,
    snapshot_bytes,
    step_ids,
)
from infra.settings import Settings

__all__ = ["GameSnapshot", "GameStore", "NoStore", "NotARecoveryStore", "UnknownGame"]


class UnknownGame(LookupError):
    """No restorable snapshot of this game in the store."""

    def __init__(self, game_id: int) -> None:
        super().__init__(f"game {game_id} is not in the recovery store")
        self.game_id = game_id


@dataclass(frozen=True)
class GameSnapshot:
    """A game's state as recovery would restore it, with how fresh it is."""

    state: GameState
    epoch: int  # the Bytewax epoch at whose end the snapshot was taken
    resume_epoch: int  # the epoch recovery would resume from when this was read
    written_at: datetime  # when Bytewax wrote the row (UTC, whole seconds), or the game ended
    archived: bool = False  # evicted from the dataflow: its final state, from the archive

    def age_s(self, now: datetime | None = None) -> float:
        """Seconds since the snapshot was written (never negative; 1 s resolution)."""
        now = now or datetime.now(UTC)
        return max(0.0, (now - self.written_at).total_seconds())


@dataclass(frozen=True)
class _Partition:
    conn: sqlite3.Connection
    bound: int  # snapshots restorable from this partition have snap_epoch < bound


_LATEST_OF_GAME = """
SELECT snap_epoch, ser_change, created_at FROM snaps
WHERE step_id = ? AND state_key = ? AND snap_epoch < ?
ORDER BY snap_epoch DESC LIMIT 1
"""
_ANY_SNAPSHOT_OF_STEP = (
    "SELECT ser_change FROM snaps WHERE step_id = ? AND ser_change IS NOT NULL LIMIT 1"
)
# The newest restorable snapshot of each game from the key index alone, then the page's blobs.
_PAGE_OF_GAMES = """
WITH latest AS (
  SELECT state_key, MAX(snap_epoch) AS snap_epoch FROM snaps
  WHERE step_id = ?1 AND snap_epoch < ?2 GROUP BY state_key
), page AS (
  SELECT state_key, snap_epoch FROM latest WHERE CAST(state_key AS INTEGER) > ?3
  ORDER BY CAST(state_key AS INTEGER) LIMIT ?4
)
SELECT CAST(p.state_key AS INTEGER), p.snap_epoch, s.ser_change, s.created_at FROM page AS p
JOIN snaps AS s ON s.step_id = ?1 AND s.state_key = p.state_key AND s.snap_epoch = p.snap_epoch
ORDER BY 1
"""


class GameStore:
    """Read-only view of the recovery directory; use as a context manager, share across threads."""

    def __init__(self, recovery_dir: Path, archive_path: Path) -> None:
        self.recovery_dir = recovery_dir
        self.archive_path = archive_path
        self._conns: list[sqlite3.Connection] = []
        self._files: list[tuple[Path, int]] = []  # (path, inode) of each opened partition
        self._step: str | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, settings: Settings) -> "GameStore":
        """The store in `settings.data_dir`: its recovery partitions and its archive."""
        return cls(settings.recovery_dir, settings.archive_path)

    def __enter__(self) -> "GameStore":
        self.open()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def open(self) -> None:
        """Open every `part-*.sqlite3`; NoStore or NotARecoveryStore if that is not a store."""
        if self._conns:
            return
        if not self.recovery_dir.is_dir():
            raise NoStore(f"no recovery store at {self.recovery_dir}: is the dataflow running?")
        paths = sorted(self.recovery_dir.glob("part-*.sqlite3"))
        if not paths:
            raise NoStore(f"no recovery partitions (part-*.sqlite3) in {self.recovery_dir}")
        try:
            for path in paths:
                self._files.append((path, path.stat().st_ino))
                self._conns.append(open_partition(path))
        except (NoStore, NotARecoveryStore):
            self.close()
            raise
        except FileNotFoundError:
            self.close()
            raise NoStore(f"recovery store at {self.recovery_dir} vanished while opening") from None

    def is_current(self) -> bool:
        """Whether the opened files are still there (`moba up` moves stale stores aside)."""
        try:
            return all(path.stat().st_ino == inode for path, inode in self._files)
        except FileNotFoundError:
            return False

    def close(self) -> None:
        """Close every partition, after any read in progress on another thread."""
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns = []
            self._files = []

    def game(self, game_id: int) -> GameSnapshot:
        """The snapshot of `game_id` recovery would restore, or UnknownGame."""
        with self._reading() as (parts, resume):
            step = self._game_step()
            best: tuple[int, bytes | None, str] | None = None
            for part in parts:
                row = part.conn.execute(
                    _LATEST_OF_GAME, (step, str(game_id), part.bound)
                ).fetchone()
                if row is not None and (best is None or row[0] > best[0]):
                    best = row
        archived = self._archived(game_id, resume)
        if best is None or best[1] is None or snapshot_bytes(best[1]) == RETIRED:
            if archived is not None:
                return archived
            raise UnknownGame(game_id)  # never snapshotted, or its state was discarded
        live = self._snapshot(best[0], best[1], best[2], resume)
        # after a crash the dataflow may hold an older state of a game it had archived
        return archived if archived and archived.state.version > live.state.version else live

    def games(
        self, after: int = -1, limit: int | None = None, archived: bool = False
    ) -> list[GameSnapshot]:
        """Snapshots of the games with ids > `after`, by id, at most `limit` of them.

        The games the dataflow holds (running, or ended and not yet evicted); with
        `archived`, the evicted ones from the archive too.
        """
        found: list[tuple[int, int, bytes, str]] = []
        with self._reading() as (parts, resume):
            step = self._game_step()
            for part in parts if step is not None else []:
                found += _page(part, step, after, limit)  # type: ignore[arg-type]
        found.sort()
        chosen = found if limit is None else found[:limit]
        live = [self._snapshot(epoch, blob, at, resume) for _, epoch, blob, at in chosen]
        if not archived:
            return live
        merged = {snap.state.game_id: snap for snap in self._archive_page(after, limit, resume)}
        for snap in live:
            old = merged.get(snap.state.game_id)
            if old is None or snap.state.version >= old.state.version:
                merged[snap.state.game_id] = snap
        ordered = [merged[g] for g in sorted(merged)]
        return ordered if limit is None else ordered[:limit]

    def _archived(self, game_id: int, resume: int) -> GameSnapshot | None:
        conn = open_for_reading(self.archive_path)
        if conn is None:
            return None
        try:
            blob = final_snapshot(conn, game_id)
        except sqlite3.Error:
            return None
        finally:
            conn.close()
        return None if blob is None else _archived_snapshot(blob, resume)

    def _archive_page(self, after: int, limit: int | None, resume: int) -> list[GameSnapshot]:
        conn = open_for_reading(self.archive_path)
        if conn is None:
            return []
        try:
            rows = final_snapshots(conn, after, limit)
        except sqlite3.Error:
            return []
        finally:
            conn.close()
        return [_archived_snapshot(blob, resume) for _, blob in rows]

    def check(self) -> int:
        """The epoch recovery would resume from right now; NotARecoveryStore if not the game's."""
        with self._reading() as (_, resume):
            self._game_step()
            return resume

    @contextmanager
    def _reading(self) -> Iterator[tuple[list[_Partition], int]]:
        """One read transaction per partition, so each is seen at a single point in time."""
        with self._lock:
            if not self._conns:
                raise NoStore(f"recovery store at {self.recovery_dir} is not open")
            try:
                for conn in self._conns:
                    conn.execute("BEGIN")
                exs: list[Execution] = []
                fronts: list[Frontier] = []
                commits: list[int | None] = []
                for conn in self._conns:
                    part_exs, part_fronts = progress(conn)
                    exs += part_exs
                    fronts += part_fronts
                    (commit,) = conn.execute("SELECT MAX(commit_epoch) FROM commits").fetchone()
                    commits.append(commit)
                resume = resume_epoch(exs, fronts)
                # A partition that committed epoch c since the progress was read has already
                # collected snapshots before c, and recovery would then resume after c.
                parts = [
                    _Partition(conn, resume if c is None else max(resume, c + 1))
                    for conn, c in zip(self._conns, commits, strict=True)
                ]
                yield parts, resume
            except sqlite3.Error as err:
                raise NotARecoveryStore(f"{self.recovery_dir}: unreadable ({err})") from None
            finally:
                for conn in self._conns:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")

    def _game_step(self) -> str | None:
        """The step whose snapshots are game states (found by content, not by name)."""
        if self._step is None:
            self._step = self._find_game_step()
        return self._step

    def _find_game_step(self) -> str | None:
        steps = sorted({step for conn in self._conns for step in step_ids(conn)})
        for step in steps:
            for conn in self._conns:
                row = conn.execute(_ANY_SNAPSHOT_OF_STEP, (step,)).fetchone()
                if row is not None and (
                    snapshot_bytes(row[0]) == RETIRED or _as_state(row[0]) is not None
                ):
                    return step
        if steps and not any(is_own_step(step) for step in steps):
            raise NotARecoveryStore(
                f"{self.recovery_dir} holds another dataflow's recovery data "
                f"(steps {', '.join(steps[:3])}), not the {FLOW_ID!r} dataflow's"
            )
        return None  # the game dataflow's store, before its first game

    def _snapshot(self, epoch: int, blob: bytes, written_at: str, resume: int) -> GameSnapshot:
        state = _as_state(blob)
        if state is None:
            raise NotARecoveryStore(f"{self.recovery_dir}: a game snapshot is not a game state")
        at = datetime.fromisoformat(written_at).replace(tzinfo=UTC)  # SQLite CURRENT_TIMESTAMP
        return GameSnapshot(state=state, epoch=epoch, resume_epoch=resume, written_at=at)


def _page(
    part: _Partition, step: str, after: int, limit: int | None
) -> list[tuple[int, int, bytes, str]]:
    """Up to `limit` live games of one partition after `after`, skipping discarded ones."""
    found: list[tuple[int, int, bytes, str]] = []
    while limit is None or len(found) < limit:
        wanted = -1 if limit is None else limit - len(found)
        rows = part.conn.execute(_PAGE_OF_GAMES, (step, part.bound, after, wanted)).fetchall()
        found += [row for row in rows if row[2] is not None and snapshot_bytes(row[2]) != RETIRED]
        if limit is None or len(rows) < wanted:
            break
        after = rows[-1][0]
    return found


def _as_state(blob: bytes) -> GameState | None:
    raw = snapshot_bytes(blob)
    if not raw:  # not bytes, or an evicted game's
        return None
    try:
        return state_of_snapshot(raw)
    except ValidationError:
        return None


def _archived_snapshot(blob: bytes, resume: int) -> GameSnapshot:
    """An archived final snapshot as a `GameSnapshot` written when the game ended (log time)."""
    ended = blob.rpartition(b" ")[2]
    at = datetime.fromtimestamp(int(ended) / 1000 if ended.isdigit() else 0, UTC)
    state = state_of_snapshot(blob)
    return GameSnapshot(state=state, epoch=0, resume_epoch=resume, written_at=at, archived=True)
