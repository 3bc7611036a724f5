"""Hand-written hypothesis strategies: actions for a game, and action sequences to fold from a new game."""

from hypothesis import strategies as st

from domain.board import DIRECTIONS, PLAYERS
from domain.models import Action, Join, Move, Throw


def actions(game_id: int = 2) -> st.SearchStrategy[Action]:
    """Mostly moves and throws by real players, sometimes joins and players that do not exist."""
    player = st.one_of(
        st.sampled_from(PLAYERS), st.sampled_from(["A6", "B0", "C1", ""]).filter(bool)
    )
    direction = st.sampled_from(DIRECTIONS)
    action_id = st.text(max_size=8)
    return st.one_of(
        st.builds(
            Move, game_id=st.just(game_id), player=player, direction=direction, action_id=action_id
        ),
        st.builds(
            Move, game_id=st.just(game_id), player=player, direction=direction, action_id=action_id
        ),
        st.builds(
            Throw, game_id=st.just(game_id), player=player, direction=direction, action_id=action_id
        ),
        st.builds(Join, game_id=st.just(game_id), player=player, action_id=action_id),
    )


def action_sequences(game_id: int = 2, max_size: int = 120) -> st.SearchStrategy[list[Action]]:
    return st.lists(actions(game_id), max_size=max_size)
