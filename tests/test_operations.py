"""What an operator reads and cleans: stores moved aside, logs, dead letters, topics."""

from pathlib import Path

from infra.recovery import move_aside, remove_older_aside


def a_store(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "part-0.sqlite3").write_bytes(b"snapshots")
    return directory


def test_moving_a_store_aside_keeps_only_the_last_one_moved_and_names_those_removed(
    tmp_path: Path,
) -> None:
    moved = []
    for _ in range(3):
        aside = move_aside(a_store(tmp_path / "recovery"))
        moved.append((aside, remove_older_aside(aside)))

    assert [removed for _, removed in moved] == [[], [moved[0][0]], [moved[1][0]]]
    assert sorted(tmp_path.iterdir()) == [moved[-1][0]]
    assert (moved[-1][0] / "part-0.sqlite3").read_bytes() == b"snapshots"
    assert all(aside.name.startswith("recovery.stale-") for aside, _ in moved)
