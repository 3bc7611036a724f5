"""The web page's files and words as the API serves them: local, whole, and the terminal's words."""

import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.web import STATIC
from domain.board import PLAYERS
from domain.phrases import ACCEPTED, REJECTED, REJECTIONS
from infra.settings import Settings


@pytest.fixture
def client(tmp_path) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path)))


def test_the_page_and_every_file_it_names_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    named = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    imported = {
        f"/static/{m}"
        for path in STATIC.glob("*.js")
        for m in re.findall(r'from "\./([^"]+)"', path.read_text())
    }
    assert named and imported
    for path in {*named, *imported}:
        assert client.get(path).status_code == 200, path


def test_nothing_is_fetched_from_outside() -> None:
    for path in STATIC.iterdir():
        assert not re.search(r"https?://", path.read_text()), f"{path.name} names a remote URL"


def test_the_page_gets_the_terminal_clients_words(client: TestClient) -> None:
    assert client.get("/phrases").json() == {
        "rejections": REJECTIONS,
        "rejected": REJECTED,
        "accepted": ACCEPTED,
    }


def test_the_seats_are_the_boards_players_with_their_teams(client: TestClient) -> None:
    seats = client.get("/seats").json()["seats"]
    assert [s["player"] for s in seats] == list(PLAYERS)
    assert {s["team"] for s in seats if s["player"].startswith("A")} == {"A"}


def test_a_missing_file_is_a_json_404(client: TestClient) -> None:
    missing = client.get("/static/nothing.js")
    assert missing.status_code == 404 and "message" in missing.json()


def test_with_no_games_yet_the_lobby_offers_the_first_seat_of_game_1(client: TestClient) -> None:
    offer = client.get("/lobby/seat")
    assert offer.status_code == 200
    assert offer.json() == {"game_id": 1, "player": "A1", "team": "A", "new": True}
    after = client.get("/lobby/seat", params={"taken": ["1:A1"]}).json()
    assert after == {"game_id": 1, "player": "B1", "team": "B", "new": False}


@pytest.mark.parametrize("taken", ["A1", "1:C9", "x:A1", "99999999999999999:A1"])
def test_a_malformed_taken_seat_is_a_422_naming_it(client: TestClient, taken: str) -> None:
    answer = client.get("/lobby/seat", params={"taken": taken})
    assert answer.status_code == 422 and repr(taken[:40]) in answer.json()["message"]


def test_a_seat_of_one_game_is_offered_on_request(client: TestClient) -> None:
    offer = client.get("/lobby/seat", params={"game": 9, "taken": ["9:A1", "9:B1"]}).json()
    assert offer == {"game_id": 9, "player": "A2", "team": "A", "new": False}
    everyone = [f"9:{team}{i}" for team in "AB" for i in range(1, 6)]
    full = client.get("/lobby/seat", params={"game": 9, "taken": everyone})
    assert full.status_code == 404 and full.json()["message"].startswith("game 9 has no free seat")


def test_a_player_gets_the_rematch_of_its_game_and_in_closed_games_its_token(
    tmp_path, client: TestClient
) -> None:
    from domain.auth import join_token
    from domain.rematch import rematch_id

    assert client.post("/games/5/rematch", params={"player": "A2"}).json() == {
        "game_id": rematch_id(5),
        "player": "A2",
        "token": None,
    }
    secret = "a-secret-of-sixteen-or-more"
    closed = TestClient(create_app(Settings(data_dir=tmp_path / "closed", secret=secret)))
    mine = join_token(secret.encode(), 5, "A2")
    seat = closed.post("/games/5/rematch", params={"player": "A2", "token": mine}).json()
    assert seat["token"] == join_token(secret.encode(), rematch_id(5), "A2")
    wrong = closed.post("/games/5/rematch", params={"player": "B2", "token": mine})
    assert wrong.status_code == 403 and wrong.json()["message"] == "wrong token for B2 in game 5"
    nobody = closed.post("/games/5/rematch", params={"player": "Z9", "token": mine})
    assert nobody.status_code == 404 and "no player 'Z9'" in nobody.json()["message"]
