"""The lobby's seat suggestions: pure, from states as the store holds them."""

from api.lobby import Offer, free_seats, next_seat, seat_in
from domain.models import Join, Throw
from domain.rematch import rematch_id
from domain.rules import fold, new_game


def seated(game_id: int, *players: str) -> list[Join]:
    return [Join(game_id=game_id, player=p, session=f"session-{p}") for p in players]


def test_with_no_games_the_first_player_starts_game_1_as_a1() -> None:
    assert next_seat([]) == Offer(1, "A1", "A", new=True)


def test_the_next_seat_goes_to_the_team_with_fewer_players_seated() -> None:
    state = fold(5, seated(5, "A1"))
    assert free_seats(state)[0] == "B1"
    assert next_seat([state]) == Offer(5, "B1", "B", new=False)
    assert next_seat([fold(5, seated(5, "A1", "B1"))]).player == "A2"


def test_the_game_with_the_most_people_is_filled_first() -> None:
    quiet, busy = fold(2, seated(2, "A1")), fold(3, seated(3, "A1", "B1", "A2"))
    assert next_seat([quiet, busy]).game_id == 3


def test_seats_a_client_saw_taken_are_skipped_and_a_full_game_starts_a_new_one() -> None:
    state = fold(4, seated(4, "A1"))
    assert next_seat([state], frozenset({(4, "B1")})).player == "A2"  # one a team: A first
    everyone = fold(4, seated(4, *[f"{t}{i}" for t in "AB" for i in range(1, 6)]))
    assert next_seat([everyone]) == Offer(5, "A1", "A", new=True)


def test_finished_games_eliminated_players_and_rematches_offer_no_seat() -> None:
    hit = fold(6, [Throw(game_id=6, player="A2", direction="left")])  # A1 is eliminated
    assert "A1" not in free_seats(hit)
    over = new_game(7).model_copy(update={"status": "finished", "winner": "A"})
    assert free_seats(over) == []
    rematch = new_game(rematch_id(7))
    assert next_seat([over, rematch]) == Offer(8, "A1", "A", new=True)


def test_a_named_game_offers_its_own_seats_a_rematch_too() -> None:
    rematch = fold(rematch_id(7), seated(rematch_id(7), "A1"))
    assert seat_in(rematch) == Offer(rematch_id(7), "B1", "B", new=False)
    assert seat_in(new_game(9), frozenset({(7, "A1")})) == Offer(9, "A1", "A", new=True)
    over = new_game(7).model_copy(update={"status": "finished", "winner": "A"})
    assert seat_in(over) is None
