"""The page's own behaviour in a real browser, against a hand-written fake gateway.

What the real gateway does only under a broker freeze or a wrong token (an `undelivered`
report, a refusal) is played here by a scripted WebSocket server inside Playwright, so
each case takes a second. The page's files and words come from the real app.
tests/test_web_page.py runs the page on the real stack.
"""

import json
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, Route, WebSocketRoute, expect

from api.app import create_app
from domain.models import GameState, Join, Move
from domain.rules import fold, new_game, next_state
from domain.wire import encode_state
from infra.broker import EmbeddedBroker
from infra.settings import Settings
from tests.browser import chromium

pytestmark = pytest.mark.slow

ORIGIN = "http://moba.test"
Server = Callable[[WebSocketRoute], None]


class FakeGateway:
    """Answers the page's sockets with `on_connect(ws)`; remembers every socket and frame."""

    def __init__(self) -> None:
        self.on_connect: Server = lambda ws: None
        self.on_frame: Callable[[WebSocketRoute, dict], None] = lambda ws, frame: None
        self.sockets: list[WebSocketRoute] = []
        self.frames: list[dict] = []

    def accept(self, ws: WebSocketRoute) -> None:
        self.sockets.append(ws)

        def received(message: str | bytes) -> None:
            frame = json.loads(message)
            self.frames.append(frame)
            self.on_frame(ws, frame)

        ws.on_message(received)
        self.on_connect(ws)


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def app(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The real app, called in-process: its gateway is never started (no lifespan)."""
    data = tmp_path_factory.mktemp("data")
    return TestClient(
        create_app(Settings(bootstrap_servers=broker.bootstrap_servers, data_dir=data))
    )


@pytest.fixture
def page(browser: Browser, app: TestClient, fake: FakeGateway) -> Iterator[Page]:
    """A fresh tab with the app's HTTP routes served in-process and the sockets by `fake`."""
    errors: list[str] = []

    def serve(route: Route) -> None:
        request = route.request
        answer = app.request(
            request.method,
            request.url.removeprefix(ORIGIN),
            content=request.post_data_buffer,
            headers={"content-type": request.headers.get("content-type", "text/plain")},
        )
        route.fulfill(status=answer.status_code, headers=dict(answer.headers), body=answer.content)

    context = browser.new_context()
    tab = context.new_page()
    tab.on("pageerror", lambda err: errors.append(str(err)))
    tab.route(f"{ORIGIN}/**", serve)
    tab.route_web_socket(re.compile(r"/games/\d+/(play|watch)"), fake.accept)
    expect.set_options(timeout=10_000)
    yield tab
    context.close()
    assert errors == [], errors


def send(ws: WebSocketRoute, state: GameState) -> None:
    ws.send(encode_state(state).decode())


def test_an_intent_the_broker_never_acknowledged_is_shown_as_not_delivered(
    page: Page, fake: FakeGateway
) -> None:
    fake.on_connect = lambda ws: send(ws, new_game(4))

    def refuse(ws: WebSocketRoute, frame: dict) -> None:
        if frame["type"] == "move":
            reason = "broker did not acknowledge within 10000 ms"
            ws.send(
                json.dumps(
                    {"type": "undelivered", "action_id": frame["action_id"], "reason": reason}
                )
            )

    fake.on_frame = refuse
    page.goto(f"{ORIGIN}/#/play/4/A2")
    expect(page.locator('.token.me[data-player="A2"]')).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#note")).to_have_text(
        "action not delivered: broker did not acknowledge within 10000 ms"
    )
    assert [f["type"] for f in fake.frames] == ["join", "move"]
    assert fake.frames[1]["direction"] == "down"
    assert set(fake.frames[1]) == {"type", "direction", "action_id"}  # the seat is the URL's


def test_a_wrong_token_closes_the_seat_for_good_with_the_servers_reason(
    page: Page, fake: FakeGateway
) -> None:
    fake.on_connect = lambda ws: ws.close(code=4401, reason="wrong token for A2 in game 4")
    page.goto(f"{ORIGIN}/#/play/4/A2")
    link = page.locator("#link")
    expect(link).to_have_attribute("data-state", "closed")  # not "retry": no reconnection
    expect(link).to_have_text("wrong token for A2 in game 4")
    expect(page.locator("#note")).to_contain_text("the server closed this seat")
    assert len(fake.sockets) == 1


def test_a_state_older_than_the_one_shown_is_ignored(page: Page, fake: FakeGateway) -> None:
    moves = [Move(game_id=4, player="B1", action_id=str(n), direction="up") for n in range(3)]
    newer, older = fold(4, moves), fold(4, moves[:1])

    def replay(ws: WebSocketRoute) -> None:
        send(ws, newer)
        send(ws, older)  # as after a gateway restart: a snapshot a moment behind

    fake.on_connect = replay
    page.goto(f"{ORIGIN}/#/watch/4")
    expect(page.locator("#stat-version")).to_have_text("3")
    expect(page.locator('.cell[data-x="0"][data-y="3"] .token')).to_have_attribute(
        "data-player", "B1"
    )
    assert fake.frames == []  # a spectator sends nothing


def test_a_spectator_is_told_a_game_has_no_state_yet_and_sees_it_end(
    page: Page, fake: FakeGateway
) -> None:
    fake.on_connect = lambda ws: ws.send(json.dumps({"type": "waiting", "game_id": 4}))
    page.goto(f"{ORIGIN}/#/watch/4")
    expect(page.locator("#note")).to_have_text(
        "this game has no state yet: it begins when a player joins"
    )
    over = new_game(4).model_copy(update={"status": "finished", "winner": "B", "version": 9})
    send(fake.sockets[0], over)
    expect(page.locator("#banner")).to_contain_text("Game over: team B wins")
    expect(page.locator("#note")).to_have_text("")


def test_reconnection_waits_double_up_to_ten_seconds_with_jitter(page: Page) -> None:
    page.goto(f"{ORIGIN}/")
    waits = page.evaluate(
        """async () => {
            const { backoffMs } = await import("/static/socket.js");
            const attempts = [0, 1, 2, 3, 4, 5, 6, 12];
            return [attempts.map((a) => backoffMs(a, () => 0)), attempts.map((a) => backoffMs(a, () => 1))];
        }"""
    )
    assert waits == [
        [250, 500, 1000, 2000, 4000, 5000, 5000, 5000],
        [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000],
    ]


def test_a_seat_that_is_not_on_the_board_sends_the_player_back_to_the_lobby(page: Page) -> None:
    page.goto(f"{ORIGIN}/#/play/4/Z9")
    expect(page.locator("#lobby")).to_be_visible()
    expect(page.locator("#seat-error")).to_contain_text("There is no seat Z9")


def test_the_tab_keeps_one_session_in_its_sockets_and_leaving_the_screen_leaves_the_seat(
    page: Page, fake: FakeGateway
) -> None:
    state = {"now": new_game(4)}

    def answer(ws: WebSocketRoute, frame: dict) -> None:
        session = ws.url.rsplit("session=", 1)[-1]
        action = Join(game_id=4, player="A2", action_id=frame["action_id"], session=session)
        if frame["type"] == "join":
            state["now"] = next_state(state["now"], action)
            send(ws, state["now"])

    fake.on_connect = lambda ws: send(ws, state["now"])
    fake.on_frame = answer
    page.goto(f"{ORIGIN}/#/play/4/A2")
    expect(page.locator('.token.me[data-player="A2"]')).to_be_visible()
    session = page.evaluate("() => sessionStorage.getItem('moba-session')")
    page.reload()  # a reload keeps the tab's session: the gateway keeps its seat
    expect(page.locator('.token.me[data-player="A2"]')).to_be_visible()
    urls = [ws.url for ws in fake.sockets]
    assert len(urls) == 2 and all(f"session={session}" in url for url in urls)
    assert session == page.evaluate("() => sessionStorage.getItem('moba-session')")
    page.click("a.brand")  # back to the lobby: the seat is left, not kept for the grace
    expect(page.locator("#lobby")).to_be_visible()
    assert [f["type"] for f in fake.frames][-1] == "leave"


def test_a_seat_another_player_holds_says_so_and_offers_the_next_free_seat(
    page: Page, fake: FakeGateway
) -> None:
    held = next_state(new_game(4), Join(game_id=4, player="A2", session="another-tab-1"))

    def refuse(ws: WebSocketRoute, frame: dict) -> None:
        if frame["type"] == "join":
            join = Join(game_id=4, player="A2", action_id=frame["action_id"], session="mine-1234")
            send(ws, next_state(held, join))  # seat_taken

    fake.on_connect = lambda ws: send(ws, held)
    fake.on_frame = refuse
    page.goto(f"{ORIGIN}/#/play/4/A2")  # chosen by hand: the page does not move by itself
    expect(page.locator("#banner")).to_contain_text("Seat A2 is taken")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#note")).to_have_text("seat A2 is taken by another player")
    page.click("#next-seat")  # the server's offer, knowing A2 is taken: B1 of game 4
    expect(page.locator("#game-title")).to_have_text("Game 4 · you are B1")
    assert "move" not in [f["type"] for f in fake.frames]


def test_after_game_over_the_rematch_button_takes_the_same_seat_in_the_next_game(
    page: Page, fake: FakeGateway
) -> None:
    from domain.rematch import rematch_id

    over = new_game(4).model_copy(
        update={"status": "finished", "winner": "A", "version": 9, "rematch": rematch_id(4)}
    )
    fake.on_connect = lambda ws: send(
        ws, over if "/games/4/" in ws.url else new_game(rematch_id(4))
    )
    page.goto(f"{ORIGIN}/")
    page.evaluate("() => sessionStorage.setItem('moba-token-4-B3', 'a-token-of-game-4')")
    page.goto(f"{ORIGIN}/#/play/4/B3")
    expect(page.locator("#banner")).to_contain_text("Game over: team A wins")
    page.click("#rematch")  # asks the server for the rematch's seat with our token, then goes
    expect(page.locator("#game-title")).to_have_text(f"Game {rematch_id(4)} · you are B3")
    expect(page.locator('.token.me[data-player="B3"]')).to_be_visible()
    assert "leave" not in [f["type"] for f in fake.frames]  # a finished game's seats stay


def test_the_banner_keeps_its_button_while_frames_arrive(page: Page, fake: FakeGateway) -> None:
    # rebuilt on every frame, a button loses a click whose press and release straddle a frame
    held = next_state(new_game(4), Join(game_id=4, player="A2", session="another-tab-1"))
    answers: list[GameState] = []

    def refuse(ws: WebSocketRoute, frame: dict) -> None:
        if frame["type"] == "join":
            join = Join(game_id=4, player="A2", action_id=frame["action_id"], session="mine-1234")
            answers.append(next_state(held, join))  # seat_taken
            send(ws, answers[-1])

    fake.on_connect = lambda ws: send(ws, held)
    fake.on_frame = refuse
    page.goto(f"{ORIGIN}/#/play/4/A2")
    expect(page.locator("#next-seat")).to_be_visible()
    page.evaluate("() => { window.shownButton = document.getElementById('next-seat'); }")
    later = answers[-1]
    for n in range(1, 4):
        send(fake.sockets[-1], later.model_copy(update={"version": later.version + n}))
    expect(page.locator("#stat-version")).to_have_text(str(later.version + 3))
    assert page.evaluate("() => window.shownButton === document.getElementById('next-seat')")


def wait_for(page: Page, condition: Callable[[], object], timeout_ms: int = 10_000) -> None:
    for _ in range(timeout_ms // 20):
        if condition():
            return
        page.wait_for_timeout(20)  # lets Playwright dispatch the page's requests meanwhile
    raise AssertionError("condition not met before the deadline")


def test_a_seat_offer_that_comes_after_the_lobby_was_left_goes_nowhere(
    page: Page, fake: FakeGateway
) -> None:
    fake.on_connect = lambda ws: send(ws, new_game(4))
    offers: list[Route] = []
    page.goto(f"{ORIGIN}/")
    expect(page.locator("#lobby")).to_be_visible()
    # the offer is held until the lobby was left
    page.route(re.compile(r"/lobby/seat"), lambda route: offers.append(route))
    page.click("#quick-play")
    wait_for(page, lambda: offers)
    page.evaluate("() => { location.hash = '#/watch/4'; }")
    expect(page.locator("#game-title")).to_have_text("Watching game 4")
    offers[0].fulfill(json={"game_id": 5, "player": "B1"})
    page.wait_for_timeout(300)
    expect(page.locator("#game-title")).to_have_text("Watching game 4")
    assert page.url.endswith("#/watch/4")


def test_a_rematch_token_that_comes_after_the_game_was_left_goes_nowhere(
    page: Page, fake: FakeGateway
) -> None:
    from domain.rematch import rematch_id

    over = new_game(4).model_copy(
        update={"status": "finished", "winner": "A", "version": 9, "rematch": rematch_id(4)}
    )
    fake.on_connect = lambda ws: send(ws, over)
    answers: list[Route] = []
    page.goto(f"{ORIGIN}/")
    page.evaluate("() => sessionStorage.setItem('moba-token-4-B3', 'a-token-of-game-4')")
    # the answer is held until the game was left
    page.route(re.compile(r"/games/4/rematch"), lambda route: answers.append(route))
    page.goto(f"{ORIGIN}/#/play/4/B3")
    page.click("#rematch")
    wait_for(page, lambda: answers)
    page.click("a.brand")
    expect(page.locator("#lobby")).to_be_visible()
    answers[0].fulfill(json={"token": "a-token-of-the-rematch"})
    page.wait_for_timeout(300)
    expect(page.locator("#lobby")).to_be_visible()
    assert page.url.endswith("#/")
    key = f"moba-token-{rematch_id(4)}-B3"
    assert page.evaluate(f"() => sessionStorage.getItem('{key}')") is None
