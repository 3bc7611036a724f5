"""Every rule and every rejection reason of the game, including their precedence."""

import pytest

from domain.board import DEFAULT_WALLS, HEIGHT, WIDTH
from domain.models import GameState
from domain.rules import blast_cells, landing_cell, new_game, next_state, reject
from tests.domain.scenarios import join, move, placed, throw


class TestNewGame:
    def test_has_the_talks_board(self) -> None:
        state = new_game(2)
        assert (state.width, state.height) == (WIDTH, HEIGHT) == (9, 10)
        assert set(state.walls) == {
            (2, 7), (3, 7), (6, 7), (7, 7), (0, 5), (1, 5),
            (6, 4), (7, 4), (1, 2), (2, 2), (6, 2), (7, 2),
        }  # fmt: skip

    def test_puts_team_a_on_the_top_row_and_team_b_on_the_bottom(self) -> None:
        state = new_game(2)
        for i, x in enumerate((0, 2, 4, 6, 8), start=1):
            assert state.players[f"A{i}"].cell == (x, 9)
            assert state.players[f"B{i}"].cell == (x, 0)

    def test_gives_everyone_five_grenades_and_life(self) -> None:
        state = new_game(7)
        assert len(state.players) == 10
        assert all(p.grenades == 5 and p.alive for p in state.players.values())
        assert (state.game_id, state.version, state.status, state.winner, state.last) == (
            7, 0, "running", None, None,
        )  # fmt: skip


class TestJoin:
    def test_changes_nothing_but_version_and_outcome(self) -> None:
        state = new_game(2)
        after = next_state(state, join("A2"))
        assert after.version == 1
        assert after.last is not None and after.last.accepted and after.last.type == "join"
        assert after.players == state.players

    def test_rejects_only_unknown_players(self) -> None:
        after = next_state(new_game(2), join("C9"))
        assert after.last is not None and after.last.reason == "unknown_player"

    def test_works_for_an_eliminated_player_after_the_game_is_over(self) -> None:
        state = placed({}, status="finished", winner="B")
        dead = state.players["A1"].model_copy(update={"alive": False})
        state = state.model_copy(update={"players": {**state.players, "A1": dead}})
        after = next_state(state, join("A1"))
        assert after.last is not None and after.last.accepted


class TestMove:
    @pytest.mark.parametrize(
        ("direction", "cell"),
        [("right", (5, 5)), ("left", (3, 5)), ("up", (4, 6)), ("down", (4, 4))],
    )
    def test_moves_one_cell(self, direction: str, cell: tuple[int, int]) -> None:
        after = next_state(placed({"A3": (4, 5)}), move("A3", direction))
        assert after.players["A3"].cell == cell
        assert after.last is not None and after.last.accepted and after.last.direction == direction

    def test_off_the_board_is_out_of_bounds(self) -> None:
        after = next_state(new_game(2), move("A1", "up"))
        assert after.players["A1"].cell == (0, 9)
        assert after.last is not None and after.last.reason == "out_of_bounds"

    def test_into_a_wall_is_rejected(self) -> None:
        after = next_state(placed({"A2": (2, 8)}), move("A2", "down"))
        assert after.last is not None and after.last.reason == "wall"
        assert after.players["A2"].cell == (2, 8)

    def test_onto_a_live_player_is_occupied(self) -> None:
        after = next_state(placed({"A1": (1, 9)}), move("A1", "right"))
        assert after.last is not None and after.last.reason == "occupied"

    def test_onto_an_eliminated_players_cell_is_allowed(self) -> None:
        state = placed({"A1": (1, 9)})
        dead = state.players["A2"].model_copy(update={"alive": False})
        state = state.model_copy(update={"players": {**state.players, "A2": dead}})
        after = next_state(state, move("A1", "right"))
        assert after.last is not None and after.last.accepted
        assert after.players["A1"].cell == (2, 9)


class TestThrow:
    def test_flies_three_cells_and_spends_one_grenade(self) -> None:
        state = placed({"B3": (4, 3)})
        assert landing_cell(state, (4, 3), "up") == (4, 6)
        after = next_state(state, throw("B3", "up"))
        assert after.last is not None and after.last.accepted
        assert after.players["B3"].grenades == 4

    def test_lands_before_a_wall(self) -> None:
        state = new_game(2)
        assert landing_cell(state, (4, 4), "right") == (5, 4)  # (6, 4) is a wall
        assert landing_cell(state, (0, 8), "down") == (0, 6)  # (0, 5) is a wall

    def test_lands_before_the_edge(self) -> None:
        assert landing_cell(new_game(2), (1, 3), "left") == (0, 3)

    def test_is_not_stopped_by_players(self) -> None:
        state = placed({"A1": (4, 5), "B1": (4, 6)})
        assert landing_cell(state, (4, 5), "up") == (4, 8)

    def test_blast_hits_landing_cell_and_four_neighbours_on_the_board(self) -> None:
        state = new_game(2)
        assert blast_cells(state, (4, 5)) == {(4, 5), (3, 5), (5, 5), (4, 4), (4, 6)}
        assert blast_cells(state, (0, 0)) == {(0, 0), (1, 0), (0, 1)}

    def test_eliminates_everyone_hit_team_mates_included(self) -> None:
        # B3 at (4, 3) throws up: lands on (4, 6); A3 at (4, 6), A4 at (5, 6), B2 at (3, 6) are hit.
        state = placed({"B3": (4, 3), "A3": (4, 6), "A4": (5, 6), "B2": (3, 6), "A5": (4, 8)})
        after = next_state(state, throw("B3", "up"))
        hit = {n for n, p in after.players.items() if not p.alive}
        assert hit == {"A3", "A4", "B2"}
        dead = after.players["A3"]
        assert dead.cell == (4, 6) and not dead.alive  # keeps its last position, occupies nothing

    def test_can_eliminate_the_thrower(self) -> None:
        # A2 at (2, 9) throws down: (2, 8) then the wall at (2, 7) stops it; the blast reaches (2, 9).
        after = next_state(new_game(2), throw("A2", "down"))
        assert not after.players["A2"].alive
        assert after.players["A2"].grenades == 4

    def test_whose_first_cell_is_a_wall_is_blocked_and_costs_nothing(self) -> None:
        after = next_state(placed({"A2": (2, 8)}), throw("A2", "down"))
        assert after.last is not None and after.last.reason == "blocked"
        assert after.players["A2"].grenades == 5

    def test_off_the_board_is_blocked(self) -> None:
        after = next_state(new_game(2), throw("B1", "left"))
        assert after.last is not None and after.last.reason == "blocked"

    def test_without_grenades_is_rejected(self) -> None:
        state = new_game(2)
        empty = state.players["B1"].model_copy(update={"grenades": 0})
        state = state.model_copy(update={"players": {**state.players, "B1": empty}})
        after = next_state(state, throw("B1", "up"))
        assert after.last is not None and after.last.reason == "no_grenades"


class TestEndOfGame:
    def _only(self, alive: dict[str, tuple[int, int]]) -> GameState:
        state = placed(alive)
        players = {
            n: p if n in alive else p.model_copy(update={"alive": False})
            for n, p in state.players.items()
        }
        return state.model_copy(update={"players": players})

    def test_team_with_no_live_players_loses(self) -> None:
        state = self._only({"A1": (4, 3), "B1": (4, 6)})
        after = next_state(state, throw("A1", "up"))  # lands on (4, 6)
        assert (after.status, after.winner) == ("finished", "A")

    def test_both_teams_wiped_at_once_is_a_draw(self) -> None:
        state = self._only({"A1": (0, 1), "B1": (1, 0)})
        after = next_state(state, throw("A1", "down"))  # lands on (0, 0): the edge stops it
        assert (after.status, after.winner) == ("finished", "draw")

    def test_game_goes_on_while_both_teams_stand(self) -> None:
        state = self._only({"A1": (4, 4), "A2": (8, 9), "B1": (4, 8)})
        after = next_state(state, throw("B1", "down"))  # lands on (4, 5): A1 at (4, 4) is hit
        assert not after.players["A1"].alive
        assert (after.status, after.winner) == ("running", None)

    def test_finished_game_rejects_moves_and_throws(self) -> None:
        state = placed({}, status="finished", winner="A")
        assert next_state(state, move("A1", "down")).last.reason == "game_over"  # type: ignore[union-attr]
        assert next_state(state, throw("A1", "down")).last.reason == "game_over"  # type: ignore[union-attr]


class TestPrecedence:
    """First reason that applies wins: game_over, unknown_player, eliminated, then the action's own."""

    def test_game_over_beats_unknown_player(self) -> None:
        state = placed({}, status="finished", winner="A")
        assert next_state(state, move("Z9", "up")).last.reason == "game_over"  # type: ignore[union-attr]

    def test_unknown_player_beats_eliminated(self) -> None:
        assert next_state(new_game(2), move("A6", "up")).last.reason == "unknown_player"  # type: ignore[union-attr]

    def test_eliminated_beats_the_moves_own_reasons(self) -> None:
        state = new_game(2)
        dead = state.players["A1"].model_copy(update={"alive": False})
        state = state.model_copy(update={"players": {**state.players, "A1": dead}})
        assert next_state(state, move("A1", "up")).last.reason == "eliminated"  # type: ignore[union-attr]
        assert next_state(state, throw("A1", "up")).last.reason == "eliminated"  # type: ignore[union-attr]

    def test_out_of_bounds_beats_wall_and_occupied(self) -> None:
        # No cell is both, so order shows as: off-board first cell is out_of_bounds, not wall.
        assert next_state(new_game(2), move("B1", "down")).last.reason == "out_of_bounds"  # type: ignore[union-attr]

    def test_no_grenades_beats_blocked(self) -> None:
        state = new_game(2)
        empty = state.players["B1"].model_copy(update={"grenades": 0})
        state = state.model_copy(update={"players": {**state.players, "B1": empty}})
        assert next_state(state, throw("B1", "left")).last.reason == "no_grenades"  # type: ignore[union-attr]


class TestVersionAndOutcome:
    def test_every_action_advances_the_version_accepted_or_not(self) -> None:
        state = new_game(2)
        for i, action in enumerate(
            [join("A1"), move("A1", "up"), move("A1", "down"), join("Q1")], 1
        ):
            state = next_state(state, action)
            assert state.version == i

    def test_outcome_echoes_the_action(self) -> None:
        after = next_state(new_game(2), move("A2", "down", action_id="c1f3-17"))
        assert after.last is not None
        assert after.last.model_dump() == {
            "action_id": "c1f3-17", "player": "A2", "type": "move",
            "direction": "down", "accepted": True, "reason": None,
        }  # fmt: skip

    def test_reject_records_a_reason_the_rules_cannot_see(self) -> None:
        state = new_game(2)
        after = reject(state, move("A2", "down"), "bad_token")
        assert after.players == state.players and after.version == 1
        assert after.last is not None and after.last.reason == "bad_token"

    def test_walls_are_the_default_map(self) -> None:
        assert new_game(2).walls == DEFAULT_WALLS
