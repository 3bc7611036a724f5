"""Hand-written hypothesis strategies: actions for a game, and action sequences to fold from a new game."""

from hypothesis import strategies as st

from domain.board import DIRECTIONS, PLAYERS
from domain.models import Action, Join, Leave, Move, Throw, Tick


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


SESSIONS = ("session-one-0001", "session-two-0002", "session-three-03")


def seated_records(
    game_id: int = 2, max_size: int = 80
) -> st.SearchStrategy[list[tuple[Action | Tick, int]]]:
    """(record, ms since the last record) of a game whose players send sessions, as the server reads them.

    Actions carry one of a few sessions (or none), so seats are claimed, kept alive,
    refused and left; clock records and gaps past a short idle timeout free them.
    """
    player = st.sampled_from(PLAYERS[:4])
    session = st.sampled_from((None, *SESSIONS))
    direction = st.sampled_from(DIRECTIONS)
    common = {"game_id": st.just(game_id), "player": player, "session": session}
    record = st.one_of(
        st.builds(Move, direction=direction, **common),
        st.builds(Move, direction=direction, **common),
        st.builds(Throw, direction=direction, **common),
        st.builds(Join, **common),
        st.builds(Leave, **common),
        st.just(Tick()),
    )
    gap = st.sampled_from((0, 1, 700, 4_000))
    return st.lists(st.tuples(record, gap), max_size=max_size)
