"""The client's view model and words: pure, no terminal, no broker."""

from typing import get_args

from client.events import Link, Undelivered
from client.keymap import action_keys, intent
from client.view import (
    View,
    absorb,
    board_fragments,
    idle_reason,
    sent,
    status_lines,
    undelivered,
)
from domain.models import Join, Move, RejectReason, Throw
from domain.phrases import REJECTIONS
from domain.render import render_board
from domain.rules import fold, new_game, next_state


def text(lines: list[tuple[str, str]]) -> str:
    return "\n".join(t for _, t in lines)


def test_every_rejection_reason_has_its_own_phrase() -> None:
    assert set(REJECTIONS) == set(get_args(RejectReason))
    assert len(set(REJECTIONS.values())) == len(REJECTIONS)


def test_a_wall_rejection_reads_cant_move_there_wall() -> None:
    state = next_state(new_game(2), Move(game_id=2, player="A2", action_id="x", direction="down"))
    state = next_state(state, Move(game_id=2, player="A2", action_id="y", direction="down"))
    view = absorb(View(game_id=2, player="A2"), state, now=1.0)
    assert "Last action: can't move there: wall" in text(status_lines(view))


def test_latency_is_the_time_from_send_to_the_state_carrying_our_action_id() -> None:
    view = sent(View(game_id=2, player="A2"), "a-1", now=10.0)
    state = next_state(new_game(2), Move(game_id=2, player="A2", action_id="a-1", direction="down"))
    view = absorb(view, state, now=10.025)
    assert round(view.latency_ms or 0) == 25
    assert view.pending == {}
    assert "Latency of your last action: 25 ms" in text(status_lines(view))


def test_states_of_other_games_and_old_versions_are_ignored() -> None:
    newer = fold(2, [Join(game_id=2, player="A1"), Join(game_id=2, player="B1")])
    view = absorb(View(game_id=2, player="A2"), newer, now=0)
    older = fold(2, [Join(game_id=2, player="A1")])
    assert absorb(view, older, now=0) is view
    assert absorb(view, newer, now=0) is view
    assert absorb(view, fold(3, [Join(game_id=3, player="A1")] * 5), now=0) is view


def test_others_outcomes_do_not_touch_our_last_action() -> None:
    state = fold(2, [Move(game_id=2, player="B1", action_id="b", direction="left")])
    view = absorb(View(game_id=2, player="A2"), state, now=0)
    assert view.state is state and view.last_words is None


def test_status_shows_grenades_live_players_and_the_winner() -> None:
    state = fold(2, [Throw(game_id=2, player="A2", direction="left")])  # kills A1 on (0, 9)
    lines = text(status_lines(absorb(View(game_id=2, player="A2"), state, now=0)))
    assert "Grenades: 4" in lines and "Team A: 4 alive" in lines and "Team B: 5 alive" in lines
    over = state.model_copy(update={"status": "finished", "winner": "B", "version": 99})
    view = absorb(View(game_id=2, player="A2"), over, now=0)
    assert "GAME OVER: team B wins" in text(status_lines(view))
    assert idle_reason(view) is not None and "game is over" in (idle_reason(view) or "")


def test_eliminated_players_and_strangers_are_told_why_keys_do_nothing() -> None:
    state = fold(2, [Throw(game_id=2, player="A2", direction="left")])  # A1 is hit
    assert "eliminated" in (idle_reason(absorb(View(game_id=2, player="A1"), state, 0)) or "")
    assert idle_reason(absorb(View(game_id=2, player="A2"), state, 0)) is None
    assert "no player C9" in (idle_reason(absorb(View(game_id=2, player="C9"), state, 0)) or "")
    assert idle_reason(View(game_id=2, player="A2")) is None  # no state yet: the server decides


def test_the_link_and_failed_sends_are_shown() -> None:
    view = View(game_id=2, player="A2", link=Link(up=False, detail="unreachable at h:1, retrying"))
    assert "Broker: unreachable at h:1, retrying" in text(status_lines(view))
    view = undelivered(sent(view, "a-1", 0), Undelivered("a-1", "Message timed out"))
    assert view.pending == {} and "not delivered: Message timed out" in text(status_lines(view))


def test_the_board_is_the_shared_renderer_with_our_player_highlighted() -> None:
    state = new_game(2)
    fragments = board_fragments(absorb(View(game_id=2, player="A2"), state, 0))
    assert "".join(t for _, t in fragments) == render_board(state, "A2")
    assert [t for style, t in fragments if style == "class:me"] == ["A2-5"]
    assert fragments[0][1].startswith("*** Game 2-A, Player A2 ***")


def test_every_action_key_maps_to_an_intent_and_others_to_none() -> None:
    for key in action_keys():
        assert intent(key, 2, "A2", "id") is not None
    assert intent("x", 2, "A2", "id") is None
    assert intent("W", 2, "A2", "id", token="t") == Throw(
        game_id=2, player="A2", action_id="id", token="t", direction="up"
    )


def test_a_rejoin_after_a_reconnection_keeps_the_last_action_words() -> None:
    moved = fold(2, [Move(game_id=2, player="A2", action_id="m", direction="down")])
    view = absorb(View(game_id=2, player="A2"), moved, now=0)
    rejoined = next_state(moved, Join(game_id=2, player="A2", action_id="j"))
    assert absorb(view, rejoined, now=0).last_words == "moved down"


def test_a_spectators_screen_says_it_is_watching_and_highlights_nobody() -> None:
    view = absorb(View(game_id=2, player=None), new_game(2), 0)
    fragments = board_fragments(view)
    assert fragments[0][1].startswith("*** Game 2, watching ***")
    assert [t for style, t in fragments if style == "class:me"] == []
    lines = text(status_lines(view))
    assert "Grenades" not in lines and "Team A: 5 alive" in lines
    assert "watching game 2: you send nothing   q quits" in lines
    assert idle_reason(view) == "you are watching game 2: press q to quit"
