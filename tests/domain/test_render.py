"""The text board against the talk's picture."""

from domain.models import GameState
from domain.render import board_cells, header, render_board
from domain.rules import new_game

# The board from the talk (shared/seed.txt), tab-separated as it was pasted there.
TALK_PICTURE = """\
*** Game 2-A, Player A2 ***\t\t\t\t\t\t\t\t\t
9\tA1-5\t\tA3-5\t\tA4-5\t\tA5-5\t\t
8\t\t\t\t\t\t\t\t\t
7\t\t\tXXXX\tXXXX\t\tA2-5\tXXXX\tXXXX\t
6\t\t\t\t\t\t\t\t\t
5\tXXXX\tXXXX\t\t\t\t\t\t\t
4\t\t\t\t\t\t\tXXXX\tXXXX\t
3\t\t\t\t\t\t\t\t\t
2\t\tXXXX\tXXXX\t\t\t\tXXXX\tXXXX\t
1\t\t\t\tB2-5\t\t\t\tB4-5\t
0\tB1-5\t\t\t\tB3-5\t\t\tB5-5\t"""


def picture_state() -> GameState:
    """The talk's mid-game position: players where the picture shows them."""
    positions = {
        "A1": (0, 9), "A3": (2, 9), "A4": (4, 9), "A5": (6, 9), "A2": (5, 7),
        "B2": (3, 1), "B4": (7, 1), "B1": (0, 0), "B3": (4, 0), "B5": (7, 0),
    }  # fmt: skip
    state = new_game(2)
    players = {
        n: p.model_copy(update=dict(zip("xy", positions[n], strict=True)))
        for n, p in state.players.items()
    }
    return state.model_copy(update={"players": players})


def test_cells_match_the_talks_picture() -> None:
    lines = TALK_PICTURE.splitlines()
    assert lines[0].strip() == header(picture_state(), "A2")
    expected = [(int(line.split("\t")[0]), line.split("\t")[1:10]) for line in lines[1:]]
    actual = [(y, [c.strip() for c in cells]) for y, cells in board_cells(picture_state())]
    assert actual == expected


def test_renders_the_initial_board() -> None:
    assert render_board(new_game(2), "A2") == "\n".join(
        [
            "*** Game 2-A, Player A2 ***",
            "9 A1-5      A2-5      A3-5      A4-5      A5-5",
            "8                                             ",
            "7           XXXX XXXX           XXXX XXXX     ",
            "6                                             ",
            "5 XXXX XXXX                                   ",
            "4                               XXXX XXXX     ",
            "3                                             ",
            "2      XXXX XXXX                XXXX XXXX     ",
            "1                                             ",
            "0 B1-5      B2-5      B3-5      B4-5      B5-5",
            "   0    1    2    3    4    5    6    7    8  ",
        ]
    )


def test_spectators_get_a_plain_header_and_the_dead_are_not_drawn() -> None:
    state = new_game(5)
    dead = state.players["B3"].model_copy(update={"alive": False})
    state = state.model_copy(update={"players": {**state.players, "B3": dead}})
    text = render_board(state)
    assert text.splitlines()[0] == "*** Game 5 ***"
    assert "B3-" not in text
