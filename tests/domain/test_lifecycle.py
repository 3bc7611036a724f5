"""Seats, time, abandonment, rematch and eviction: the rules of a game's whole life, on log time."""

from hypothesis import given
from hypothesis import strategies as st

from bench.eviction import self_defeat
from domain.lifecycle import next_record, replay, started
from domain.models import Join, Leave, Move, Tick
from domain.rematch import REMATCH_BASE, rematch_id
from domain.rules import fold
from domain.seats import holder_of
from domain.snapshots import game_of_snapshot, snapshot_of
from domain.timeouts import Limits, is_evictable
from domain.wire import encode_state

LIMITS = Limits(idle_ms=10_000, evict_ms=5_000)
ME, YOU = "session-me-0001", "session-you-0002"
T0 = 1_700_000_000_000


def join(player: str, session: str | None) -> Join:
    return Join(game_id=2, player=player, session=session)


def step(records: list[tuple[object, int]]):
    game = started(2, records[0][1])
    for record, now in records:
        game = next_record(game, record, now, LIMITS)  # type: ignore[arg-type]
    return game


class TestSeats:
    def test_the_first_session_to_join_takes_the_seat(self) -> None:
        game = step([(join("A2", ME), T0)])
        seats = game.state().seats
        assert seats["A2"].holder == holder_of(ME) and seats["A2"].last == T0

    def test_another_session_cannot_act_for_a_held_seat(self) -> None:
        game = step([(join("A2", ME), T0), (join("A2", YOU), T0 + 1)])
        assert game.last.reason == "seat_taken"
        assert game.state().seats["A2"].holder == holder_of(ME)

    def test_an_action_without_a_session_is_refused_for_a_held_seat_only(self) -> None:
        move = Move(game_id=2, player="A2", direction="down")
        held = step([(join("A2", ME), T0), (move, T0 + 1)])
        assert held.last.reason == "seat_taken"
        free = step([(join("A2", ME), T0), (move.model_copy(update={"player": "A1"}), T0 + 1)])
        assert free.last.accepted and "A1" not in free.board.seats

    def test_leaving_frees_the_seat_for_someone_else(self) -> None:
        leave = Leave(game_id=2, player="A2", session=ME)
        game = step([(join("A2", ME), T0), (leave, T0 + 1), (join("A2", YOU), T0 + 2)])
        assert game.state().seats["A2"].holder == holder_of(YOU)

    def test_a_seat_idle_too_long_frees_on_the_next_clock_record(self) -> None:
        busy = Move(game_id=2, player="B1", direction="up", session=YOU)
        records = [(join("A2", ME), T0), (busy, T0 + 6_000), (Tick(), T0 + 10_000)]
        game = step(records)
        assert set(game.state().seats) == {"B1"}
        assert (game.last.type, game.version) == ("tick", 3)

    def test_a_state_names_a_session_only_by_its_digest(self) -> None:
        wire = encode_state(step([(join("A2", ME), T0)]).state())
        assert ME.encode() not in wire and holder_of(ME).encode() in wire

    @given(
        st.lists(st.tuples(st.sampled_from([ME, YOU]), st.sampled_from(["A1", "A2"])), min_size=1)
    )
    def test_exactly_the_first_claimer_of_each_seat_holds_it(self, claims) -> None:
        game = step([(join(player, session), T0 + i) for i, (session, player) in enumerate(claims)])
        first: dict[str, str] = {}
        for session, player in claims:
            first.setdefault(player, session)
        assert {p: h.holder for p, h in game.board.seats.items()} == {
            p: holder_of(s) for p, s in first.items()
        }


class TestTime:
    def test_a_clock_record_with_nothing_due_changes_nothing(self) -> None:
        game = step([(join("A2", ME), T0)])
        after = next_record(game, Tick(), T0 + 1_000, LIMITS)
        assert after.version == game.version and after.board is game.board

    def test_a_game_with_no_accepted_action_for_the_timeout_is_abandoned(self) -> None:
        game = step([(join("A2", ME), T0), (Tick(), T0 + 9_999), (Tick(), T0 + 10_000)])
        state = game.state()
        assert (state.status, state.winner, state.seats, state.rematch) == (
            "abandoned", None, {}, None,
        )  # fmt: skip
        assert game.clock.ended == T0 + 10_000

    def test_a_late_action_finds_the_game_abandoned(self) -> None:
        move = Move(game_id=2, player="A1", direction="down")
        game = step([(join("A1", None), T0), (move, T0 + 60_000)])
        assert (game.state().status, game.last.reason, game.version) == (
            "abandoned",
            "game_over",
            2,
        )

    def test_time_never_goes_back(self) -> None:
        game = step([(join("A2", ME), T0), (join("A2", ME), T0 - 5_000)])
        assert game.clock.now == T0 and game.state().seats["A2"].last == T0

    def test_an_ended_game_is_evictable_after_the_grace(self) -> None:
        game = step([(join("A1", None), T0), (Tick(), T0 + 10_000)])
        assert not is_evictable(game, LIMITS)
        assert is_evictable(next_record(game, Tick(), T0 + 15_000, LIMITS), LIMITS)

    def test_a_game_restored_without_its_time_starts_its_clock_at_its_next_record(self) -> None:
        before = step([(join("A1", ME), T0)])
        restored = game_of_snapshot(encode_state(before.state()))  # a snapshot without a clock line
        later = T0 + 3_600_000
        game = next_record(
            restored, Move(game_id=2, player="A1", direction="right", session=ME), later, LIMITS
        )
        assert game.board.status == "running" and game.last.accepted
        assert (game.clock.now, game.clock.active, game.clock.ended) == (later, later, None)


class TestRematch:
    def test_a_finished_game_names_its_rematch(self) -> None:
        state = fold(7, self_defeat(7))
        assert (state.status, state.winner, state.rematch) == ("finished", "B", rematch_id(7))

    def test_rematch_ids_are_reserved_and_distinct(self) -> None:
        ids = {rematch_id(g) for g in range(10_000)}
        assert len(ids) == 10_000 and min(ids) >= REMATCH_BASE

    def test_a_finished_game_keeps_its_seats_for_the_rematch(self) -> None:
        records = [(a, T0 + i) for i, a in enumerate(self_defeat(2, ME))]
        game = step([*records, (Tick(), T0 + 60_000)])
        assert game.board.status == "finished" and set(game.board.seats) == {"A1", "A5"}

    def test_leaving_a_finished_game_keeps_its_seats(self) -> None:
        records = [(a, T0 + i) for i, a in enumerate(self_defeat(2, ME))]
        game = step([*records, (Leave(game_id=2, player="A1", session=ME), T0 + 1_000)])
        assert game.board.status == "finished" and set(game.board.seats) == {"A1", "A5"}


class TestReplay:
    def test_replay_yields_one_state_per_action_and_per_change_of_time(self) -> None:
        records = [(join("A2", ME), T0), (Tick(), T0 + 1_000), (Tick(), T0 + 10_000)]
        states = list(replay(2, records, LIMITS))
        assert [s.version for s in states] == [1, 2]
        assert states[-1].status == "abandoned"

    def test_replay_stops_once_the_game_is_evicted(self) -> None:
        records = [(join("A1", None), T0), (Tick(), T0 + 20_000), (join("A1", None), T0 + 21_000)]
        assert [s.version for s in replay(2, records, LIMITS)] == [1, 2]

    @given(st.integers(min_value=0, max_value=11))
    def test_resuming_from_a_snapshot_decides_the_same(self, cut: int) -> None:
        records = [(a, T0 + 2_000 * i) for i, a in enumerate(self_defeat(2, ME))]
        records += [(Tick(), T0 + 40_000), (Tick(), T0 + 80_000)]
        whole = step(records)
        game = step(records[: cut + 1])
        game = game_of_snapshot(snapshot_of(encode_state(game.state()), game.clock))
        for record, now in records[cut + 1 :]:
            game = next_record(game, record, now, LIMITS)  # type: ignore[arg-type]
        assert game == whole
