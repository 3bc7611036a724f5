"""Invariants over random action sequences folded from a new game (hypothesis)."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.board import on_board
from domain.game import Game
from domain.lifecycle import next_record, started
from domain.models import Action, GameState, Leave, Tick
from domain.rules import fold, new_game, next_game, next_state, start
from domain.seats import holder_of
from domain.timeouts import Limits
from domain.wire import StateEncoder, decode_state, encode_state
from tests.domain.strategies import action_sequences, actions, seated_records


def states_along(actions_: list[Action]) -> list[GameState]:
    states = [new_game(2)]
    for action in actions_:
        states.append(next_state(states[-1], action))
    return states


def games_along(actions_: list[Action]) -> list[Game]:
    games = [start(2)]
    for action in actions_:
        games.append(next_game(games[-1], action))
    return games


@given(action_sequences())
def test_live_players_stay_on_the_board_off_walls_and_apart(seq: list[Action]) -> None:
    for state in states_along(seq):
        live = [p.cell for p in state.players.values() if p.alive]
        assert all(on_board(c, state.width, state.height) for c in live)
        assert not set(live) & set(state.walls)
        assert len(live) == len(set(live))


@given(action_sequences())
def test_grenades_stay_between_zero_and_five_and_never_grow(seq: list[Action]) -> None:
    states = states_along(seq)
    for before, after in itertools.pairwise(states):
        for name, p in after.players.items():
            assert 0 <= p.grenades <= 5
            assert p.grenades <= before.players[name].grenades


@given(action_sequences())
def test_version_counts_the_actions_applied(seq: list[Action]) -> None:
    assert fold(2, seq).version == len(seq)


@given(action_sequences())
def test_applying_is_deterministic(seq: list[Action]) -> None:
    assert encode_state(fold(2, seq)) == encode_state(fold(2, seq))


@given(action_sequences(max_size=40), actions())
def test_applying_never_mutates_its_input(seq: list[Action], action: Action) -> None:
    state = fold(2, seq)
    snapshot = state.model_dump()
    next_state(state, action)
    assert state.model_dump() == snapshot


@given(action_sequences(max_size=60), actions())
def test_a_rejected_action_changes_only_version_and_outcome(
    seq: list[Action], action: Action
) -> None:
    before = fold(2, seq)
    after = next_state(before, action)
    assert after.last is not None
    if not after.last.accepted:
        unchanged = {"version", "last"}
        assert after.model_dump(exclude=unchanged) == before.model_dump(exclude=unchanged)
        assert after.version == before.version + 1


@given(action_sequences(max_size=60), actions())
def test_the_dead_stay_dead_and_the_finished_stay_finished(
    seq: list[Action], action: Action
) -> None:
    before = fold(2, seq)
    after = next_state(before, action)
    for name, p in before.players.items():
        if not p.alive:
            assert not after.players[name].alive
    if before.status == "finished":
        assert (after.status, after.winner) == ("finished", before.winner)


@settings(max_examples=50)
@given(action_sequences())
def test_states_round_trip_through_json(seq: list[Action]) -> None:
    for state in states_along(seq):
        assert decode_state(encode_state(state)) == state


@given(st.integers(min_value=0, max_value=2**53 - 1), action_sequences(max_size=10))
def test_replays_of_any_game_id_agree(game_id: int, seq: list[Action]) -> None:
    relabelled = [a.model_copy(update={"game_id": game_id}) for a in seq]
    assert fold(game_id, relabelled).model_dump(exclude={"game_id"}) == fold(2, seq).model_dump(
        exclude={"game_id"}
    )


@given(action_sequences())
def test_states_encode_to_exactly_pydantics_json(seq: list[Action]) -> None:
    for state in states_along(seq):
        assert encode_state(state) == state.model_dump_json().encode()


@given(action_sequences())
def test_one_encoder_along_a_game_writes_exactly_pydantics_json_at_every_state(
    seq: list[Action],
) -> None:
    """The dataflow keeps one `StateEncoder` per game: what it reuses must never go stale."""
    encoder = StateEncoder()
    for game in games_along(seq):
        assert encoder.encode(game) == game.state().model_dump_json().encode()
        assert encoder.encode(game) == game.state().model_dump_json().encode()  # the snapshot's


@given(seated_records())
def test_along_a_seated_game_in_log_time_the_encoder_writes_pydantics_json_and_seats_name_their_session(
    records: list[tuple[Action | Tick, int]],
) -> None:
    """Sessions, leaves and idle seats, applied as the server does: the seats' JSON never goes
    stale, and an accepted action's seat is its session's, at its time."""
    limits = Limits(idle_ms=3_000, evict_ms=1_000)
    now = 1_700_000_000_000
    game, encoder = started(2, now), StateEncoder()
    for record, gap in records:
        now += gap
        before, game = game, next_record(game, record, now, limits)
        assert encoder.encode(game) == game.state().model_dump_json().encode()
        assert Game.of(game.state(), game.clock) == game
        if type(record) is Tick or record.session is None or not game.last.accepted:
            continue
        if before.board.status == "running" and game.board.status == "running":
            hold = game.board.seats.get(record.player)
            if type(record) is Leave:
                assert hold is None
            else:
                assert hold == (holder_of(record.session), now)


def test_an_encoder_that_meets_a_name_needing_escapes_falls_back_and_recovers() -> None:
    plain = start(4)
    odd = Game.of(decode_state(encode_state(plain.state()).replace(b'"A1":', b'"A\\"1":')))
    encoder = StateEncoder()
    for game in (plain, odd, plain, odd):
        assert encoder.encode(game) == game.state().model_dump_json().encode()


@given(action_sequences())
def test_the_rules_on_games_and_on_models_agree_at_every_state(seq: list[Action]) -> None:
    """The dataflow applies `next_game` to `Game`s; everything else `next_state` to models."""
    for game, state in zip(games_along(seq), states_along(seq), strict=True):
        assert game.state() == state
        assert Game.of(state) == game
