"""Hostile input on `actions`: each message is dead-lettered with a reason or rejected by the rules.

The flow never stops, and valid games sharing the partitions equal the fold. Classes
and counts are printed (`pytest -s`) and listed in docs/reliability.md.
"""

import json
import random
from collections import Counter
from dataclasses import dataclass

import pytest
from confluent_kafka import KafkaError, Producer

from bench.workload import realistic_games
from domain.models import Action, GameState, Join, Move, Throw
from domain.rules import fold
from domain.wire import decode_action, decode_state, encode_action
from infra.kafka import game_key, partition_for, producer_config
from tests.kafka_helpers import Reached, read_topic

pytestmark = pytest.mark.slow

P = 4
MIB = 1 << 20


@dataclass(frozen=True)
class Hostile:
    """One message to produce, its class, and what must become of it."""

    kind: str
    partition: int
    key: bytes | None
    value: bytes | None
    reason: str | None  # the DLQ reason; None when it is a valid action the rules judge


def raw(kind: str, value: bytes | None, reason: str, partition: int = 0, key=None) -> Hostile:
    return Hostile(kind, partition, key, value, reason)


def action_json(game_id: object = 5, player: object = "A1", **fields: object) -> bytes:
    return json.dumps({"game_id": game_id, "player": player, "type": "move", **fields}).encode()


def hostile_messages(rng: random.Random) -> list[Hostile]:
    out: list[Hostile] = []
    for i in range(20):
        junk = b"\xff" + rng.randbytes(rng.randrange(1, 300))
        out.append(raw("random bytes", junk, "not_json", i % P))
    for i in range(20):
        whole = encode_action(Move(game_id=4 + i, player="A1", direction="up", action_id="t"))
        out.append(
            raw("truncated JSON", whole[: rng.randrange(1, len(whole) - 1)], "not_json", i % P)
        )
    for i, value in enumerate([[1, 2, 3], "move", 42, None, {}, {"game_id": 1}, {"player": "A1"}]):
        out.append(
            raw("JSON of the wrong shape", json.dumps(value).encode(), "invalid_action", i % P)
        )
    out.append(
        raw("JSON of the wrong shape", action_json(player=["A1"], direction="up"), "invalid_action")
    )
    for i, kind in enumerate(["teleport", "", "JOIN", None, 5]):
        value = action_json(type=kind)
        out.append(
            raw(
                "unknown type",
                value.replace(b'"move"', json.dumps(kind).encode()),
                "unknown_type",
                i % P,
            )
        )
    out.append(
        raw("huge string", action_json(player="A" * 3000, direction="up"), "invalid_action", 1)
    )
    out.append(
        raw("huge string", action_json(direction="up", action_id="x" * 100), "invalid_action", 2)
    )
    out.append(raw("huge string", action_json(direction="up", pad="x" * 100_000), "oversized", 3))
    out.append(raw("deeply nested JSON", b"[" * 3000, "not_json", 0))
    out.append(raw("deeply nested JSON", b'{"a":' * 600 + b"1" + b"}" * 600, "not_json", 1))
    for i, game in enumerate([-1, -(2**63), 2**53, 10**30, 1.5, "7", True]):
        out.append(
            raw(
                "negative or enormous game id",
                action_json(game, direction="up"),
                "invalid_action",
                i % P,
            )
        )
    out.append(
        raw("1 MiB message", b'{"game_id": 1, "pad": "' + b"x" * MIB + b'"}', "oversized", 1)
    )
    out.append(raw("1 MiB message", b"\xff\xfe", "not_json", 2, key=b"k" * MIB))
    out.append(raw("null value", None, "not_json", 3))
    out.append(raw("null value", None, "not_json", 0, key=b"5"))
    for n in range(10):  # game 1001 lives on partition 1: these arrive on the others
        wrong = 1 + 1 + n % (P - 1)
        action = Move(game_id=1001, player="A1", direction="down", action_id=f"w{n}")
        out.append(
            Hostile(
                "wrong partition",
                wrong % P,
                game_key(1001),
                encode_action(action),
                "wrong_partition",
            )
        )
    return out


def judged_by_the_rules(game_id: int) -> list[tuple[str, Action, bytes | None]]:
    """Valid actions whose players are odd, unknown or another team's, with null or lying keys."""
    out: list[tuple[str, Action, bytes | None]] = []
    for player in ["Ä1", "🎮", "A1\u0000", "\uff21\uff11", "\u202eB1", "a1"]:
        out.append(("unicode player name", Join(game_id=game_id, player=player), game_key(game_id)))
        out.append(
            ("unicode player name", Move(game_id=game_id, player=player, direction="up"), None)
        )
    for player in ["A6", "B0", "C1"]:
        out.append(
            (
                "unknown player",
                Throw(game_id=game_id, player=player, direction="up"),
                game_key(game_id),
            )
        )
    for player in ["B1", "B2"]:  # open games: acting as the other team's player is allowed
        out.append(
            (
                "another team's player",
                Move(game_id=game_id, player=player, direction="up"),
                game_key(game_id),
            )
        )
    out.append(("null key", Move(game_id=game_id, player="A3", direction="down"), None))
    out.append(
        ("key naming another game", Move(game_id=game_id, player="A4", direction="down"), b"999")
    )
    return out


def test_hostile_input_is_dead_lettered_or_rejected_and_valid_games_are_unaffected(
    settings, run_dataflow
) -> None:
    rng = random.Random(2024)
    valid = realistic_games(8, 800, seed=3, first_id=1000)  # games 1000..1007, every partition
    flood = [
        Move(
            game_id=3000,
            player=rng.choice(["A1", "B1"]),
            direction=rng.choice(["up", "down"]),
            action_id=str(i),
        )
        for i in range(3000)
    ]
    judged = judged_by_the_rules(2000)
    hostile = hostile_messages(rng)

    # valid actions keep their order; the others go in at random places
    stream = [
        Hostile("valid", partition_for(a.game_id, P), game_key(a.game_id), encode_action(a), None)
        for a in valid + flood
    ]
    for kind, action, key in judged:
        entry = Hostile(kind, partition_for(action.game_id, P), key, encode_action(action), None)
        stream.insert(rng.randrange(len(stream) + 1), entry)
    for h in hostile:
        stream.insert(rng.randrange(len(stream) + 1), h)
    kinds = {kind for kind, _, _ in judged}
    judged_in_order = [(h.kind, decode_action(h.value)) for h in stream if h.kind in kinds]

    sources, refused = produce(settings, stream)
    flow = run_dataflow(workers=2)

    # a broker may refuse a message over its size limit (Kafka and noida do at 1 MiB);
    # the flow never sees those, so they are not dead-lettered
    assert all(h.kind == "1 MiB message" for h in refused)
    expected_letters = [h for h in stream if h.reason is not None and h not in refused]
    letters = read_topic(
        settings, settings.dlq_topic, lambda ms: len(ms) >= len(expected_letters), timeout_s=120
    )
    games: dict[int, list[Action]] = {}
    for action in valid + flood + [a for _, a in judged_in_order]:
        games.setdefault(action.game_id, []).append(action)
    states = read_topic(
        settings,
        settings.games_topic,
        Reached({g: len(a) for g, a in games.items()}),
        timeout_s=180,
    )
    flow.raise_if_exited()

    # every hostile message is dead-lettered once, with its reason, where it came from
    assert len(letters) == len(expected_letters)
    counts: Counter[tuple[str, str]] = Counter()
    for letter in letters:
        sent = sources[letter.headers["moba.source"].decode()]
        assert letter.headers["moba.reason"].decode() == sent.reason, sent.kind
        assert letter.partition == sent.partition
        assert_original_or_bounded(letter.key, sent.key, letter.headers)
        assert_original_or_bounded(letter.value, sent.value, letter.headers)
        counts[(sent.kind, sent.reason)] += 1

    # every game, next to hostile input or flooded, equals the fold of its valid actions
    latest: dict[int, GameState] = {}
    for msg in states:
        state = decode_state(msg.value)
        if state.version > latest.get(state.game_id, state).version or state.game_id not in latest:
            latest[state.game_id] = state
    for game, actions in games.items():
        assert latest[game] == fold(game, actions), game
    judged_reasons: Counter[tuple[str, str]] = Counter()
    state = None
    for kind, action in judged_in_order:
        state = fold(2000, [action], state)
        judged_reasons[(kind, state.last.reason or "accepted")] += 1
    counts.update(judged_reasons)
    counts[("flood: 3000 actions for one game", "accepted or rejected by the rules")] = len(flood)

    print("\nclass | outcome | count")
    for (kind, outcome), n in sorted(counts.items()):
        print(f"{kind} | {outcome} | {n}")
    assert judged_reasons[("unknown player", "unknown_player")] == 3
    assert judged_reasons[("another team's player", "accepted")] >= 1
    assert sum(n for (k, _), n in judged_reasons.items() if k == "unicode player name") == 12
    assert all(r == "unknown_player" for (k, r) in judged_reasons if k == "unicode player name")


def assert_original_or_bounded(
    got: bytes | None, sent: bytes | None, headers: dict[str, bytes]
) -> None:
    """The DLQ carries the original bytes, except that a huge key or value is cut (and says so)."""
    if got == sent:
        return
    assert sent is not None and got is not None and sent.startswith(got), "DLQ bytes changed"
    assert "moba.truncated" in headers


def produce(settings, stream: list[Hostile]) -> tuple[dict[str, Hostile], list[Hostile]]:
    """Produce `stream` in order; map each message's `topic/partition/offset` to its entry.

    The producer allows 2 MB messages: librdkafka refuses 1 MiB by default, a hostile
    client need not. Tansu takes them; a broker that refuses them as too large (Kafka,
    noida) is doing its job: those entries come back second.
    """
    producer = Producer(producer_config(settings, **{"message.max.bytes": 2_000_000}))
    sources: dict[str, Hostile] = {}
    refused: list[Hostile] = []
    failures: list[str] = []

    def delivered(entry):
        def callback(err, msg) -> None:
            if err is not None and err.code() == KafkaError.MSG_SIZE_TOO_LARGE:
                refused.append(entry)
            elif err is not None:
                failures.append(str(err))
            else:
                sources[f"{msg.topic()}/{msg.partition()}/{msg.offset()}"] = entry

        return callback

    for entry in stream:
        while True:
            try:
                producer.produce(
                    settings.actions_topic,
                    entry.value,
                    entry.key,
                    partition=entry.partition,
                    on_delivery=delivered(entry),
                )
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(60) == 0
    assert not failures, failures
    return sources, refused
