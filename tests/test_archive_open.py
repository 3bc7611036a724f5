"""Every worker of every dataflow process opens the archive at once, at start-up: none may fail."""

import threading
from contextlib import closing
from multiprocessing import get_context
from pathlib import Path

from infra.archive import archive, final_snapshots, open_for_reading, open_for_writing

OPENERS = 8


def open_together(path: Path, openers: int = OPENERS) -> list[Exception]:
    """`openers` threads opening a new archive at the same instant; the errors they met."""
    start, errors = threading.Barrier(openers), list[Exception]()

    def opener() -> None:
        start.wait()
        try:
            open_for_writing(path).close()
        except Exception as err:  # collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=opener) for _ in range(openers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_threads_opening_a_new_archive_together_all_get_it(tmp_path: Path) -> None:
    """Without the lock file, 9 rounds in 200 failed with "database is locked" (the switch to WAL)."""
    for round_ in range(100):
        assert open_together(tmp_path / f"{round_}" / "archive.sqlite3") == []


def _open_and_write(path: Path, game_id: int) -> None:
    with closing(open_for_writing(path)) as conn:
        archive(conn, [(game_id, b"final")])


def test_processes_opening_a_new_archive_together_each_write_their_game(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    spawn = get_context("spawn")
    processes = [spawn.Process(target=_open_and_write, args=(path, g)) for g in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [process.exitcode for process in processes] == [0] * 4
    conn = open_for_reading(path)
    assert conn is not None
    with closing(conn):
        assert final_snapshots(conn) == [(g, b"final") for g in range(4)]
