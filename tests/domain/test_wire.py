"""The wire format: what a client in any language sends and receives."""

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.board import DIRECTIONS
from domain.models import Action, Join, Move, Throw
from domain.rules import fold, new_game, next_state
from domain.wire import InvalidMessage, decode_action, decode_state, encode_action, encode_state
from tests.domain.strategies import action_sequences


def test_decodes_the_documented_action() -> None:
    raw = b'{"game_id": 2, "player": "A2", "type": "move", "direction": "right", "action_id": "c1f3-17"}'
    assert decode_action(raw) == Move(
        game_id=2, player="A2", direction="right", action_id="c1f3-17"
    )


def test_join_needs_no_direction_and_action_id_is_optional() -> None:
    assert decode_action(b'{"game_id": 0, "player": "B5", "type": "join"}') == Join(
        game_id=0, player="B5"
    )


def test_ignores_extra_fields_such_as_coordinates() -> None:
    raw = b'{"game_id": 2, "player": "A2", "type": "throw", "direction": "up", "x": 8, "y": 0}'
    assert decode_action(raw) == Throw(game_id=2, player="A2", direction="up")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x00\xff garbage", "not_json"),
        (b'{"game_id": 2, "player": "A2", "type": "move"', "not_json"),
        (b"[" * 2_000, "not_json"),  # nested past the parser's recursion limit
        (None, "not_json"),
        (b'{"game_id": 2, "player": "A2", "type": "teleport"}', "unknown_type"),
        (b'{"game_id": 2, "player": "A2"}', "invalid_action"),
        (b'{"game_id": -1, "player": "A2", "type": "join"}', "invalid_action"),
        (b'{"game_id": 9007199254740992, "player": "A2", "type": "join"}', "invalid_action"),
        (b'{"game_id": "2", "player": "A2", "type": "join"}', "invalid_action"),
        (b'{"game_id": 2.5, "player": "A2", "type": "join"}', "invalid_action"),
        (b'{"game_id": 2, "player": "A2", "type": "move", "direction": "north"}', "invalid_action"),
        (b'{"game_id": 2, "player": "A2", "type": "move"}', "invalid_action"),
        (b"[1, 2, 3]", "invalid_action"),
        (
            json.dumps({"game_id": 2, "player": "A" * 100, "type": "join"}).encode(),
            "invalid_action",
        ),
        (b" " * 5000, "oversized"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_rejects_what_is_not_an_action_with_a_reason(raw: bytes | None, reason: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        decode_action(raw, max_bytes=4096)
    assert caught.value.reason == reason
    assert caught.value.detail


@given(st.binary(max_size=512))
def test_no_bytes_make_the_decoder_raise_anything_else(raw: bytes) -> None:
    with contextlib.suppress(InvalidMessage):
        decode_action(raw)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_no_json_value_makes_the_decoder_raise_anything_else(value: object) -> None:
    with contextlib.suppress(InvalidMessage):
        decode_action(json.dumps(value).encode(), max_bytes=1 << 20)


def test_encoded_action_decodes_to_itself_and_omits_an_absent_token() -> None:
    action = Throw(game_id=3, player="B1", direction="left", action_id="x")
    raw = encode_action(action)
    assert b"token" not in raw
    assert decode_action(raw) == action


def test_state_has_the_documented_shape() -> None:
    state = next_state(new_game(2), Move(game_id=2, player="A2", direction="down", action_id="c1"))
    wire = json.loads(encode_state(state))
    assert set(wire) == {
        "game_id",
        "version",
        "status",
        "winner",
        "width",
        "height",
        "walls",
        "players",
        "seats",
        "rematch",
        "last",
    }
    assert wire["seats"] == {} and wire["rematch"] is None
    assert wire["walls"][0] == [2, 7]
    assert wire["players"]["A2"] == {"team": "A", "x": 2, "y": 8, "grenades": 5, "alive": True}
    assert wire["last"] == {
        "action_id": "c1", "player": "A2", "type": "move",
        "direction": "down", "accepted": True, "reason": None,
    }  # fmt: skip


# Near misses: objects shaped like actions whose fields hold anything a hostile client could send.
HOSTILE_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(
        ["join", "move", "throw", "up", "down", "left", "right", "A1", "B5", "\u0000"]
    )
)
HOSTILE_VALUES = st.recursive(
    HOSTILE_SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c)
)
FIELDS = ["game_id", "player", "type", "direction", "action_id", "token", "x"]
NEAR_MISSES = st.dictionaries(st.sampled_from(FIELDS), HOSTILE_VALUES, max_size=7)
ACTION_LIKE = st.fixed_dictionaries(
    {
        "game_id": st.integers(min_value=0, max_value=2**53 - 1),
        "player": st.text(min_size=1, max_size=16),
        "type": st.sampled_from(["join", "move", "throw"]),
        "direction": st.sampled_from(DIRECTIONS),
    },
    optional={"action_id": st.text(max_size=64), "token": st.text(max_size=128)},
)


@given(NEAR_MISSES)
def test_no_near_miss_makes_the_decoder_raise_anything_else(value: dict[str, object]) -> None:
    with contextlib.suppress(InvalidMessage):
        decode_action(json.dumps(value).encode())


@given(ACTION_LIKE, st.data())
def test_no_corruption_of_an_action_makes_the_decoder_raise_anything_else(
    value: dict[str, object], data: st.DataObject
) -> None:
    raw = bytearray(json.dumps(value).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at : at + 1] = data.draw(st.binary(max_size=3))
    with contextlib.suppress(InvalidMessage):
        decode_action(bytes(raw))


@given(action_sequences(max_size=60), st.one_of(ACTION_LIKE, NEAR_MISSES))
def test_any_decodable_action_applies_to_any_folded_state_and_its_state_round_trips(
    seq: list[Action], value: dict[str, object]
) -> None:
    try:
        action = decode_action(json.dumps(value).encode())
    except InvalidMessage:
        return
    state = next_state(fold(2, seq), action)
    assert state.version == len(seq) + 1
    assert decode_state(encode_state(state)) == state


@pytest.mark.parametrize("text", ['say "hi"', "back\\slash", "tab\there", "élan", "\x7f", "🙂", ""])
def test_encode_state_escapes_names_and_ids_exactly_as_pydantic(text: str) -> None:
    state = next_state(new_game(7), Move(game_id=7, player="A1", direction="right", action_id=text))
    odd = state.model_copy(update={"players": {**state.players, text or "x": state.players["B2"]}})
    for s in (state, odd):
        assert encode_state(s) == s.model_dump_json().encode()


def test_encode_state_of_a_decoded_state_with_other_walls_matches_pydantic() -> None:
    state = decode_state(encode_state(new_game(3)).replace(b"[[2,7],", b"[[4,4],[2,7],"))
    assert state.walls[0] == (4, 4)
    assert encode_state(state) == state.model_dump_json().encode()
