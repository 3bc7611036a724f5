"""A restart never resumes a game from a snapshot its input offsets have not caught up with.

A crashed run can leave snapshots of epochs it never committed. Bytewax ignores them
on the next resume but keeps them; once that epoch is committed by the re-run, a game
the re-run did not touch would resume from the stale row: its state ahead of the
restored offsets, its actions applied twice (found by the two-process soak). Runs
the real games flow on bytewax's testing source with a real SQLite store; no broker.
"""

import pickle
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from bytewax.recovery import RecoveryConfig
from bytewax.testing import TestingSink, TestingSource, run_main

from dataflows.games import build_flow
from dataflows.records import Inbound
from domain.models import Move
from domain.rules import fold
from domain.wire import encode_action, encode_state
from infra.recovery import discard_uncommitted, prepare_recovery_dir, progress, resume_epoch
from infra.settings import Settings

SETTINGS = Settings(partitions=4)
GAME_STEP = "moba.game_state.stateful_batch"


def moves(game_id: int, count: int) -> list[Inbound]:
    actions = [Move(game_id=game_id, player="A1", direction="down") for _ in range(count)]
    p = game_id % 4
    return [Inbound("actions", p, i, None, encode_action(a)) for i, a in enumerate(actions)]


def run(store: Path, inbound: list[Inbound]) -> None:
    prepare_recovery_dir(store)  # what `python -m bytewax.run dataflows.games` does first
    flow = build_flow(TestingSource(inbound), TestingSink([]), SETTINGS)
    run_main(flow, epoch_interval=timedelta(0), recovery_config=RecoveryConfig(store))


def rows(store: Path, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(store / "part-0.sqlite3")) as db:
        return db.execute(sql, args).fetchall()


def current_resume_epoch(store: Path) -> int:
    with closing(sqlite3.connect(store / "part-0.sqlite3")) as db:
        return resume_epoch(*progress(db))


def leave_a_crashed_runs_snapshot(store: Path, game_id: int, epoch: int) -> None:
    """What a run killed mid-epoch leaves: game 6 snapshotted in an epoch never committed."""
    ahead = encode_state(fold(game_id, [Move(game_id=game_id, player="B1", direction="up")] * 3))
    with closing(sqlite3.connect(store / "part-0.sqlite3")) as db, db:
        db.execute(
            "INSERT INTO snaps (step_id, state_key, snap_epoch, ser_change) VALUES (?, ?, ?, ?)",
            (GAME_STEP, str(game_id), epoch, pickle.dumps(ahead)),
        )


def test_snapshots_of_uncommitted_epochs_are_dropped_before_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "recovery"
    run(store, moves(5, 3))
    resume = current_resume_epoch(store)
    leave_a_crashed_runs_snapshot(store, 6, resume)
    leave_a_crashed_runs_snapshot(store, 7, resume + 3)

    run(store, moves(5, 3))  # the re-run commits epochs past `resume` without touching game 6

    assert current_resume_epoch(store) > resume
    assert rows(store, "SELECT state_key FROM snaps WHERE state_key IN ('6', '7')") == []
    committed = rows(store, "SELECT COUNT(*) FROM snaps WHERE step_id = ?", GAME_STEP)
    assert committed == [(1,)]  # game 5, as the re-run left it


def test_a_store_without_executions_is_left_alone(tmp_path: Path) -> None:
    store = tmp_path / "recovery"
    prepare_recovery_dir(store)

    assert discard_uncommitted(store) == 0
