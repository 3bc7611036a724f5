"""The real dataflow process on the real broker: routing, many games, dead letters, `-w 10`.

The pure fold is the oracle: every state read back must equal folding the same actions.
"""

import pytest

from bench.workload import by_game, key_presses
from domain.models import Join, Move, Throw
from domain.rules import fold
from domain.wire import decode_state
from tests.kafka_helpers import Reached, produce_actions, produce_raw, read_topic, states_by_game

pytestmark = pytest.mark.slow

SCRIPT = [
    Join(game_id=7, player="A2", action_id="hello"),
    Move(game_id=7, player="A2", direction="up", action_id="1"),  # off the board
    Move(game_id=7, player="A2", direction="down", action_id="2"),
    Move(game_id=7, player="A2", direction="down", action_id="3"),  # (2, 7) is a wall
    Move(game_id=7, player="B9", direction="left", action_id="4"),  # no such player
    Throw(game_id=7, player="B3", direction="up", action_id="5"),
    Throw(game_id=7, player="A1", direction="down", action_id="6"),
]


def test_a_scripted_game_yields_the_folded_states_on_its_partition(settings, run_dataflow) -> None:
    produce_actions(settings, SCRIPT)
    run_dataflow(workers=1)

    messages = read_topic(
        settings, settings.games_topic, Reached({7: len(SCRIPT)}), partitions=[7 % 4]
    )

    assert {(m.partition, m.key) for m in messages} == {(3, b"7")}
    states = [decode_state(m.value) for m in messages]
    assert states == [fold(7, SCRIPT[: i + 1]) for i in range(len(SCRIPT))]
    assert [s.last.reason for s in states] == [
        None,
        "out_of_bounds",
        None,
        "wall",
        "unknown_player",
        None,
        None,
    ]
    assert [s.last.action_id for s in states] == ["hello", "1", "2", "3", "4", "5", "6"]


@pytest.mark.parametrize("workers", [1, 4])
def test_many_games_over_every_partition_equal_the_fold(settings, run_dataflow, workers) -> None:
    actions = list(key_presses(range(100, 140), 40 * 25))
    games = by_game(actions)
    produce_actions(settings, actions)
    flow = run_dataflow(workers=workers)

    messages = read_topic(
        settings, settings.games_topic, Reached({g: len(a) for g, a in games.items()})
    )

    flow.raise_if_exited()
    assert {m.partition for m in messages} == {0, 1, 2, 3}
    assert all(m.partition == int(m.key) % 4 for m in messages)
    for game, states in states_by_game(messages).items():
        assert [s.version for s in states] == list(range(1, len(games[game]) + 1))
        assert states[-1] == fold(game, games[game])


def test_bad_messages_land_in_the_dlq_while_valid_ones_keep_flowing(settings, run_dataflow) -> None:
    game = [Move(game_id=9, player="A1", direction="down", action_id=str(i)) for i in range(3)]
    bad = [
        (0, b"{not json"),
        (1, b'{"game_id": 1, "player": "A1", "type": "teleport", "x": 3}'),
        (2, b'{"game_id": 2, "player": "A1", "type": "move"}'),
        (3, b'{"game_id": 3, "type": "join", "player": "A1", "pad": "' + b"x" * 5000 + b'"}'),
        (0, b"\xff\xfe"),
        (0, None),
    ]
    produce_actions(settings, game[:1])
    produce_raw(settings, bad)
    produce_actions(settings, game[1:])
    run_dataflow(workers=2)

    letters = read_topic(settings, settings.dlq_topic, lambda ms: len(ms) >= len(bad))
    states = read_topic(settings, settings.games_topic, Reached({9: 3}))

    found = {(m.partition, m.value): m.headers["moba.reason"].decode() for m in letters}
    assert found == {
        (0, b"{not json"): "not_json",
        (1, bad[1][1]): "unknown_type",
        (2, bad[2][1]): "invalid_action",
        (3, bad[3][1]): "oversized",
        (0, b"\xff\xfe"): "not_json",
        (0, None): "not_json",
    }
    assert all(
        m.headers["moba.source"].startswith(settings.actions_topic.encode()) for m in letters
    )
    assert decode_state(states[-1].value) == fold(9, game)


def test_runs_as_written_with_ten_workers(settings, run_dataflow) -> None:
    import sys

    produce_actions(settings, SCRIPT)
    flow = run_dataflow(args=[sys.executable, "-m", "bytewax.run", "dataflows.games", "-w", "10"])

    read_topic(settings, settings.games_topic, Reached({7: len(SCRIPT)}))

    flow.raise_if_exited()
    assert flow.stop() is not None
