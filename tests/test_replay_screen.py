"""The replay screen without a terminal: its pace, its keys, what it says (prompt_toolkit's pipe input)."""

import asyncio
import time

from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from bench.workload import records
from client.replay import MAX_PAUSE_S, MIN_PAUSE_S, Cursor, last_words, screen_status, watch_replay
from domain.models import Join, Move
from infra.history import Record
from infra.replay import Replay, fold_log
from infra.settings import Settings

GAME = 3
ACTIONS = [
    Join(game_id=GAME, player="A1"),
    Move(game_id=GAME, player="A1", direction="down"),
    Move(game_id=GAME, player="A1", direction="up"),
    Move(game_id=GAME, player="B9", direction="up"),
]
TIMES_MS = [1_000, 1_050, 1_550, 61_550]  # 50 ms, then 0.5 s, then a minute


def replayed() -> Replay:
    logged = records(ACTIONS, partitions=1)
    return fold_log(
        GAME,
        0,
        [
            Record(i, t, key, value)
            for i, ((_, key, value), t) in enumerate(zip(logged, TIMES_MS, strict=True))
        ],
        Settings(partitions=1),
    )


def test_each_version_stays_as_long_as_it_did_in_play_within_bounds() -> None:
    cursor = Cursor(replayed(), speed=1.0)

    pauses = []
    for version in range(cursor.replay.latest + 1):
        cursor.version = version
        pauses.append(cursor.pause_s())

    assert pauses == [MIN_PAUSE_S, MIN_PAUSE_S, 0.5, MAX_PAUSE_S, MIN_PAUSE_S]
    cursor.faster(True)
    cursor.version = 2
    assert (cursor.speed, cursor.pause_s()) == (2.0, 0.25)


def test_stepping_stops_at_either_end() -> None:
    cursor = Cursor(replayed(), speed=1.0)

    cursor.step(-1)
    assert cursor.version == 0
    cursor.step(10)
    assert cursor.version == 4 and cursor.over


def test_the_status_says_the_version_the_move_and_a_rejection() -> None:
    cursor = Cursor(replayed(), speed=1.0, version=4)

    lines = [text.strip() for _, text in screen_status(cursor)]

    assert lines[0].startswith("Version 4 of 4")
    assert ("class:status.rejected", "B9: you are not a player of this game\n") in screen_status(
        cursor
    )
    assert last_words(cursor.replay.state(0)) == "the new game, before its first action"


def test_the_replay_runs_to_its_end_and_q_quits() -> None:
    cursor = Cursor(replayed(), speed=1000.0)

    async def run() -> None:
        with create_pipe_input() as keys, create_app_session(input=keys, output=DummyOutput()):
            shown = asyncio.ensure_future(watch_replay(cursor, input=keys))
            deadline = time.monotonic() + 10
            while not cursor.over:  # at x1000 the four versions take a few ms
                assert time.monotonic() < deadline, f"stuck at version {cursor.version}"
                await asyncio.sleep(0.01)  # the poll's period
            keys.send_text("q")
            await asyncio.wait_for(shown, 5)

    asyncio.run(run())
    assert cursor.version == 4 and not cursor.paused
