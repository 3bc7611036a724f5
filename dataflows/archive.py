"""The dataflow's second output: the final state of each game it evicts, into the archive (infra/archive.py)."""

from pathlib import Path

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from dataflows.records import Final
from infra.archive import archive, open_for_writing


class ArchiveSink(DynamicSink[tuple[str, Final]]):
    """Writes `(key, Final)` items to the SQLite archive at `path`, one connection per worker."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def build(self, step_id: str, worker_index: int, worker_count: int) -> "_ArchivePartition":
        return _ArchivePartition(self._path)


class _ArchivePartition(StatelessSinkPartition[tuple[str, Final]]):
    def __init__(self, path: Path) -> None:
        self._conn = open_for_writing(path)

    def write_batch(self, items: list[tuple[str, Final]]) -> None:
        archive(self._conn, [(final.game_id, final.snapshot) for _, final in items])

    def close(self) -> None:
        self._conn.close()
