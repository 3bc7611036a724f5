"""The bots' strategy: deterministic, throws when it hits an opponent, never steps into a wall."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from client.strategy import choose, hits, legal_moves
from domain.board import DIRECTIONS, PLAYERS, on_board, step
from domain.models import Action, GameState, Join, Move, Throw
from domain.rules import fold, new_game, next_state


def placed(**cells: tuple[int, int]) -> GameState:
    """A new game with only the named players alive, at the given cells."""
    state = new_game(1)
    players = {}
    for name, p in state.players.items():
        x, y = cells.get(name, p.cell)
        players[name] = p.model_copy(update={"x": x, "y": y, "alive": name in cells})
    return state.model_copy(update={"players": players})


def play_out(seed: int, turns: int) -> list[tuple[str, object]]:
    state, rng, log = new_game(1), random.Random(seed), []
    for turn in range(turns):
        name = PLAYERS[turn % len(PLAYERS)]
        intent = choose(state, name, rng)
        log.append((name, intent))
        if intent is not None:
            kind, direction = intent
            cls = Move if kind == "move" else Throw
            state = next_state(state, cls(game_id=1, player=name, direction=direction))
    return log


def test_the_same_seed_plays_the_same_game() -> None:
    assert play_out(7, 80) == play_out(7, 80)


def test_a_bot_throws_when_an_opponent_is_in_reach() -> None:
    state = placed(A1=(4, 6), B1=(4, 3))  # three open cells below A1: lands on B1
    assert choose(state, "A1", random.Random(0)) == ("throw", "down")


def test_a_bot_does_not_throw_when_it_would_hit_a_team_mate_or_itself() -> None:
    state = placed(A1=(4, 6), A2=(5, 3), B1=(4, 3))
    assert hits(state, "A1", (4, 6), "down") == (1, 1)
    assert choose(state, "A1", random.Random(0)) != ("throw", "down")
    cornered = placed(A1=(4, 8), B1=(4, 9))  # throwing up lands on B1, next to A1
    assert choose(cornered, "A1", random.Random(0)) != ("throw", "up")


def test_eliminated_players_and_finished_games_get_no_intent() -> None:
    state = placed(A1=(4, 6), B1=(4, 3))
    assert choose(state, "A2", random.Random(0)) is None
    assert choose(state.model_copy(update={"status": "finished"}), "A1", random.Random(0)) is None


def test_a_boxed_in_bot_without_a_throw_stays_put() -> None:
    state = placed(A1=(0, 9), A2=(1, 9), A3=(0, 8), B1=(8, 0))
    assert choose(state, "A1", random.Random(0)) is None


actions = st.lists(
    st.builds(
        lambda kind, name, direction: (
            Join(game_id=1, player=name)
            if kind == "join"
            else (Move if kind == "move" else Throw)(game_id=1, player=name, direction=direction)
        ),
        st.sampled_from(["join", "move", "move", "move", "throw"]),
        st.sampled_from(PLAYERS),
        st.sampled_from(DIRECTIONS),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(history=actions, seed=st.integers(0, 2**32), name=st.sampled_from(PLAYERS))
def test_a_bot_never_proposes_an_illegal_move(history: list[Action], seed: int, name: str) -> None:
    state = fold(1, history)
    intent = choose(state, name, random.Random(seed))
    if intent is None:
        me = state.players[name]
        assert not me.alive or state.status == "finished" or not legal_moves(state, name)
        return
    kind, direction = intent
    after = next_state(
        state, (Move if kind == "move" else Throw)(game_id=1, player=name, direction=direction)
    )
    assert after.last is not None and after.last.accepted, after.last
    if kind == "move":
        target = step(state.players[name].cell, direction)
        assert on_board(target) and target not in state.walls


def test_a_whole_bot_game_finishes_with_no_rejection() -> None:
    state, rng = new_game(1), random.Random(3)
    for turn in range(2000):
        if state.status == "finished":
            break
        name = PLAYERS[turn % len(PLAYERS)]
        intent = choose(state, name, rng)
        if intent is not None:
            cls = Move if intent[0] == "move" else Throw
            state = next_state(state, cls(game_id=1, player=name, direction=intent[1]))
            assert state.last is not None and state.last.accepted
    assert state.status == "finished"
