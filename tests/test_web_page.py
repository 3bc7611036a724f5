"""The web page in a real browser, on the real broker, dataflow and gateway process.

Headless system Chromium (tests/browser.py) opens `/`, takes a seat, presses keys and
reads the board and the words the terminal client would show; a spectator watches a
game the bots play. Playwright's `expect` polls each condition to a deadline.
The second test saves a screenshot; set MOBA_WEB_SCREENSHOT=docs/img/web.png to
refresh the one the README shows.
"""

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from client.bots import run_bots
from client.transport import KafkaTransport
from domain.board import PLAYERS
from infra.settings import Settings
from tests.browser import chromium
from tests.gateway_process import GatewayProcess
from tests.kafka_helpers import played_to_the_end, produce_actions

pytestmark = pytest.mark.slow

WAIT_MS = 30_000  # a loaded two-core machine: the first state waits for the dataflow to start


@pytest.fixture
def gateway(settings: Settings, run_dataflow, tmp_path: Path) -> Iterator[GatewayProcess]:
    """The dataflow and `moba api` (the gateway and the page) on this test's settings."""
    run_dataflow()
    process = GatewayProcess(settings, tmp_path / "gateway.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def page(browser: Browser, gateway: GatewayProcess) -> Iterator[Page]:
    """A fresh tab at the gateway's `/`; JavaScript errors fail the test."""
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    tab = context.new_page()
    tab.on("pageerror", lambda err: errors.append(str(err)))
    tab.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    tab.goto(f"http://127.0.0.1:{gateway.settings.api_port}/")
    yield tab
    context.close()
    assert errors == [], errors


def token_at(page: Page, player: str, x: int, y: int):
    return page.locator(f'.cell[data-x="{x}"][data-y="{y}"] .token[data-player="{player}"]')


def test_a_player_takes_a_seat_moves_and_reads_a_wall_rejection(page: Page) -> None:
    page.fill("#seat-game", "7")
    page.click("label[for=seat-A2]")
    page.click("#seat-form button[type=submit]")

    expect(token_at(page, "A2", 2, 9)).to_have_class(re.compile(r"\bme\b"))  # the join's state
    expect(page.locator("#link")).to_have_attribute("data-state", "up")
    expect(page.locator("#game-title")).to_have_text("Game 7 · you are A2")

    page.keyboard.press("ArrowDown")
    expect(token_at(page, "A2", 2, 8)).to_be_visible()
    expect(page.locator("#last")).to_have_text("moved down")
    expect(page.locator("#latency")).to_have_text(re.compile(r"^\d+ ms$"))

    page.keyboard.press("ArrowDown")  # (2, 7) is a wall
    expect(page.locator("#last")).to_have_text("can't move there: wall")
    expect(page.locator("#last")).to_have_class(re.compile(r"\brejected\b"))
    expect(token_at(page, "A2", 2, 8)).to_be_visible()

    page.keyboard.press("d")  # throw right: nobody there, one grenade fewer
    expect(page.locator("#last")).to_have_text("threw a grenade right")
    expect(page.locator("#stat-grenades")).to_have_text("4")
    expect(token_at(page, "A2", 2, 8)).to_have_attribute("data-grenades", "4")

    page.click("a.brand")  # back to the lobby (leaving A2), which lists the game the join created
    expect(page.locator('#games tr[data-game="7"]')).to_contain_text("running")
    page.get_by_role("button", name="Take a free seat in game 7").click()  # the server's offer
    expect(page.locator("#game-title")).to_have_text(re.compile(r"^Game 7 · you are [AB][1-5]$"))
    expect(page.locator(".token.me")).to_be_visible()  # the claim's answer: the seat is ours


def test_a_spectator_watches_a_game_the_bots_play(
    page: Page, settings: Settings, tmp_path: Path
) -> None:
    stop = threading.Event()
    transport = KafkaTransport(settings, [3])
    bots = threading.Thread(
        target=run_bots,
        args=(transport, [(3, p) for p in PLAYERS if p != "A2"]),
        kwargs={"rate": 8.0, "stop": stop, "seed": 4},
    )
    bots.start()
    try:
        game = page.locator('#games tr[data-game="3"]')
        expect(game).to_be_visible()  # the lobby lists the game once the store has it
        game.get_by_role("button", name="Watch game 3").click()
        expect(page.locator("#game-title")).to_have_text("Watching game 3")
        expect(page.locator("#play-panel")).to_be_hidden()
        version = page.locator("#stat-version")
        expect(version).to_have_text(re.compile(r"^\d+$"))
        first = int(version.inner_text())
        expect(version).not_to_have_text(str(first))  # the bots play on, the board follows
        assert int(version.inner_text()) > first

        page.goto(f"{page.url.split('#')[0]}#/play/3/A2")  # take the bots' free seat
        expect(page.locator(".token.me")).to_have_attribute("data-player", "A2")
        page.keyboard.press("ArrowDown")
        expect(page.locator("#last")).to_have_text(re.compile("moved down|can't move there"))
        expect(page.locator("#latency")).to_have_text(re.compile(r"^\d+ ms$"))
        target = os.environ.get("MOBA_WEB_SCREENSHOT")
        if target:  # the README's picture: wait until the bots have knocked someone out
            expect(page.locator(".token.dead").first).to_be_visible(timeout=120_000)
        shot = tmp_path / "web.png"
        page.screenshot(path=str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if target:
            shutil.copyfile(shot, target)
    finally:
        stop.set()
        bots.join(10)
        transport.close()


def test_the_page_reconnects_after_a_gateway_kill_and_resumes_from_the_latest_state(
    page: Page, gateway: GatewayProcess
) -> None:
    page.goto(f"{page.url.split('#')[0]}#/play/9/A2")
    expect(token_at(page, "A2", 2, 9)).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#last")).to_have_text("moved down")
    version = int(page.locator("#stat-version").inner_text())

    gateway.kill()  # kill -9: the socket drops without a close frame
    link = page.locator("#link")
    expect(link).to_have_attribute("data-state", re.compile("retry|connecting"))
    expect(link).to_contain_text("retrying in")
    page.keyboard.press("ArrowDown")  # nothing to send it on: the page says so
    expect(page.locator("#note")).to_have_text("not sent: not connected to the server")

    gateway.start()
    expect(link).to_have_attribute("data-state", "up")
    expect(token_at(page, "A2", 2, 8)).to_be_visible()  # the latest state, not the first
    expect(page.locator("#last")).to_have_text("moved down")  # the page's re-join is no news
    assert int(page.locator("#stat-version").inner_text()) >= version
    page.keyboard.press("ArrowDown")
    expect(page.locator("#last")).to_have_text("can't move there: wall")


@pytest.fixture
def other_page(browser: Browser, gateway: GatewayProcess) -> Iterator[Page]:
    """A second player: another browser context, so another tab session."""
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda err: errors.append(str(err)))
    tab.set_default_timeout(WAIT_MS)
    tab.goto(f"http://127.0.0.1:{gateway.settings.api_port}/")
    yield tab
    context.close()
    assert errors == [], errors


def test_two_players_pressing_play_now_at_once_get_two_seats_of_one_game(
    page: Page, other_page: Page
) -> None:
    both = (page, other_page)
    for tab in both:  # the store knows no game yet: both are offered seat A1 of game 1
        expect(tab.locator("#games-empty")).to_be_visible()
    page.click("#quick-play")
    other_page.click("#quick-play")
    for tab in both:
        expect(tab.locator("#game-title")).to_have_text(re.compile(r"^Game 1 · you are (A1|B1)$"))
        expect(tab.locator(".token.me")).to_be_visible()
    # Both tabs show A1 until the server answers the joins; the loser of the race is told
    # and moves on to the next seat by itself.
    seats = {"Game 1 · you are A1", "Game 1 · you are B1"}
    deadline = time.monotonic() + WAIT_MS / 1000
    while (titles := {tab.locator("#game-title").inner_text() for tab in both}) != seats:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)  # the poll's period
    assert titles == seats


def test_two_players_finish_a_game_click_the_rematch_and_keep_their_teams(
    page: Page, other_page: Page, settings: Settings
) -> None:
    from domain.rematch import rematch_id

    game, rematch = 14, rematch_id(14)
    base = page.url.split("#")[0]
    page.goto(f"{base}#/play/{game}/A2")
    other_page.goto(f"{base}#/play/{game}/B2")
    for tab, player in ((page, "A2"), (other_page, "B2")):
        expect(tab.locator(".token.me")).to_have_attribute("data-player", player)
    # the eight other seats play the game to its end, as bots would
    produce_actions(
        settings, played_to_the_end(game, [p for p in PLAYERS if p not in ("A2", "B2")], 14)
    )
    for tab in (page, other_page):
        expect(tab.locator("#banner")).to_contain_text("Game over", timeout=120_000)
        expect(tab.locator("#rematch")).to_have_text("Play the rematch")
    page.click("#rematch")
    other_page.click("#rematch")
    for tab, player, team in ((page, "A2", "a"), (other_page, "B2", "b")):
        expect(tab.locator("#game-title")).to_have_text(f"Game {rematch} · you are {player}")
        me = tab.locator(".token.me")
        expect(me).to_have_attribute("data-player", player)
        expect(me).to_have_class(re.compile(rf"\bteam-{team}\b"))
        expect(tab.locator("#banner")).to_be_hidden()
    page.keyboard.press("ArrowDown")  # the rematch plays: the other player sees the move
    expect(token_at(other_page, "A2", 2, 8)).to_be_visible()
