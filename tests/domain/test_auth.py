"""Join tokens: honest players play, cheaters get `bad_token`, and no token opens another seat."""

from hypothesis import given
from hypothesis import strategies as st

from domain.auth import is_authentic, join_token, next_authentic_state, seat_tokens
from domain.models import Move
from domain.rules import new_game, next_state

SECRET = b"server-secret"


def move_as(player: str, token: str | None, game_id: int = 2) -> Move:
    return Move(game_id=game_id, player=player, direction="down", token=token)


def test_honest_player_plays_as_if_the_game_were_open() -> None:
    action = move_as("A2", join_token(SECRET, 2, "A2"))
    assert next_authentic_state(new_game(2), action, SECRET) == next_state(new_game(2), action)


def test_open_game_needs_no_token() -> None:
    action = move_as("A2", None)
    assert next_authentic_state(new_game(2), action, None) == next_state(new_game(2), action)


def test_missing_wrong_player_and_wrong_game_tokens_are_bad_token() -> None:
    state = new_game(2)
    for token in (None, "", join_token(SECRET, 2, "A3"), join_token(SECRET, 3, "A2"), "0" * 64):
        after = next_authentic_state(state, move_as("A2", token), SECRET)
        assert after.last is not None and after.last.reason == "bad_token"
        assert after.players == state.players and after.version == 1


def test_a_token_under_another_secret_does_not_verify() -> None:
    assert not is_authentic(SECRET, move_as("A2", join_token(b"other", 2, "A2")))


def test_each_seat_gets_the_token_of_its_own_player() -> None:
    tokens = seat_tokens(SECRET, 2)
    assert set(tokens) == set(new_game(2).players)
    assert all(is_authentic(SECRET, move_as(p, t)) for p, t in tokens.items())
    assert len(set(tokens.values())) == 10


def test_tokens_never_reach_the_state() -> None:
    token = join_token(SECRET, 2, "A2")
    after = next_authentic_state(new_game(2), move_as("A2", token), SECRET)
    assert token not in after.model_dump_json()


names = st.text(min_size=1, max_size=16)
ids = st.integers(min_value=0, max_value=2**53 - 1)


@given(ids, names, ids, names)
def test_no_token_verifies_for_any_other_game_and_player(
    g1: int, p1: str, g2: int, p2: str
) -> None:
    token = join_token(SECRET, g1, p1)
    action = move_as(p2, token, game_id=g2)
    assert is_authentic(SECRET, action) == ((g1, p1) == (g2, p2))
