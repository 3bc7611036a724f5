"""The games flow on bytewax's testing source and sink, on 1 and 2 workers; the fold as oracle."""

from collections.abc import Callable

import pytest
from bytewax.testing import TestingSink, TestingSource, cluster_main, run_main

from dataflows.games import build_flow
from dataflows.records import REASON_HEADER, Inbound, Outbound
from domain.models import Join, Move, Throw
from domain.rules import fold
from domain.wire import decode_state, encode_action
from infra.kafka import partition_for
from infra.settings import Settings

SETTINGS = Settings(partitions=4, games_topic="games", dlq_topic="dlq", max_action_bytes=256)

GAME_5 = [
    Join(game_id=5, player="A1", action_id="j"),
    Move(game_id=5, player="A1", direction="up", action_id="m1"),  # off the top: out_of_bounds
    Move(game_id=5, player="A1", direction="down", action_id="m2"),
    Throw(game_id=5, player="B3", direction="up", action_id="t1"),
    Move(game_id=5, player="Z9", direction="left", action_id="m3"),  # unknown_player
]
GAME_6 = [Move(game_id=6, player="B1", direction="left", action_id=f"b{i}") for i in range(3)]


def inbound(actions, extra=()) -> list[Inbound]:
    """Actions as the Kafka source would emit them, each on its game's partition."""
    msgs = []
    offsets: dict[int, int] = {}
    for action in actions:
        p = partition_for(action.game_id, SETTINGS.partitions)
        offsets[p] = offsets.get(p, -1) + 1
        msgs.append(Inbound("actions", p, offsets[p], b"k", encode_action(action)))
    return msgs + list(extra)


def written(out: list[tuple[str, list[Outbound]]]) -> list[tuple[str, Outbound]]:
    """The sink's items (batches of records, keyed) as one (key, record) pair per record."""
    return [(key, rec) for key, batch in out for rec in batch]


def run_one(flow) -> None:
    run_main(flow)


def run_two(flow) -> None:
    cluster_main(flow, [], 0, worker_count_per_proc=2)


@pytest.fixture(params=[run_one, run_two], ids=["1-worker", "2-workers"])
def execute(request) -> Callable:
    return request.param


def interleave(a, b):
    out = []
    for i in range(max(len(a), len(b))):
        out += a[i : i + 1] + b[i : i + 1]
    return out


def test_states_equal_the_fold_on_the_games_partition(execute) -> None:
    batches: list[tuple[str, list[Outbound]]] = []
    execute(
        build_flow(
            TestingSource(inbound(interleave(GAME_5, GAME_6))), TestingSink(batches), SETTINGS
        )
    )
    out = written(batches)

    for game, actions in ((5, GAME_5), (6, GAME_6)):
        records = [rec for key, rec in out if key == str(game)]
        assert [rec.partition for rec in records] == [game % 4] * len(actions)
        assert {(rec.topic, rec.key) for rec in records} == {("games", str(game).encode())}
        states = [decode_state(rec.value) for rec in records]
        assert states == [fold(game, actions[: i + 1]) for i in range(len(actions))]
    assert [s.last.reason for s in map(decode_state, (r.value for k, r in out if k == "5"))][
        1
    ] == "out_of_bounds"


def test_bad_messages_go_to_the_dead_letter_topic_with_their_bytes_and_reason(execute) -> None:
    bad = [
        Inbound("actions", 1, 10, None, b"not json"),
        Inbound("actions", 2, 11, None, b'{"game_id": 2, "player": "A1", "type": "dance"}'),
        Inbound("actions", 3, 12, None, b"[" * 300),
        Inbound("actions", 0, 13, None, b'{"game_id": -4, "player": "A1", "type": "join"}'),
        Inbound("actions", 0, 14, None, b'{"game_id": 5, "player": "A1", "type": "join"}'),
        Inbound("actions", 0, 15, None, None),
    ]
    batches: list[tuple[str, list[Outbound]]] = []
    execute(build_flow(TestingSource(inbound(GAME_6, bad)), TestingSink(batches), SETTINGS))
    out = written(batches)

    letters = sorted((rec for _, rec in out if rec.topic == "dlq"), key=lambda r: r.headers[-1])
    reasons = {rec.value: dict(rec.headers)[REASON_HEADER] for rec in letters}
    assert reasons == {
        b"not json": b"not_json",
        b'{"game_id": 2, "player": "A1", "type": "dance"}': b"unknown_type",
        b"[" * 300: b"oversized",
        b'{"game_id": -4, "player": "A1", "type": "join"}': b"invalid_action",
        b'{"game_id": 5, "player": "A1", "type": "join"}': b"wrong_partition",
        None: b"not_json",
    }
    assert {rec.partition for rec in letters} == {0, 1, 2, 3}
    assert len([1 for _, rec in out if rec.topic == "games"]) == len(GAME_6)


def test_a_megabyte_dead_letter_is_cut_to_a_size_kafka_takes_and_says_so() -> None:
    from dataflows.games import MAX_DEAD_LETTER_BYTES, dead_letter_record
    from dataflows.records import TRUNCATED_HEADER, DeadLetter

    huge = Inbound("actions", 1, 7, b"k" * (1 << 20), b"{" + b"x" * (1 << 20))
    record = dead_letter_record(DeadLetter(huge, "oversized", "too big"), "dlq", 4)

    assert record.key == huge.key[:MAX_DEAD_LETTER_BYTES]
    assert record.value == huge.value[:MAX_DEAD_LETTER_BYTES]
    assert len(record.key) + len(record.value) < 1_000_000  # librdkafka's default message.max.bytes
    assert dict(record.headers)[TRUNCATED_HEADER] == b"key:1048576,value:1048577"
