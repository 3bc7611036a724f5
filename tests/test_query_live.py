"""The query side on a store written by the real dataflow on the real broker.

`moba games`, the API and the `games` topic must agree, and the pure fold is the
oracle: every state read from the store is the fold of a prefix of its game's actions.
"""

import json
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import sqlite_utils
import uvicorn
from bytewax.recovery import init_db_dir
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from api.app import create_app
from api.store import GameSnapshot, GameStore, NoStore, NotARecoveryStore
from bench.workload import by_game, joins, key_presses
from cli.main import app as cli
from domain.models import Action, Join, Move, Throw
from domain.rules import fold
from domain.wire import decode_state
from infra.broker import free_port
from infra.settings import Settings
from tests.kafka_helpers import Reached, produce_actions, read_topic, states_by_game

pytestmark = pytest.mark.slow


def script(games: range, per_game: int, seed: int = 5) -> list[Action]:
    """`per_game` actions for each game, interleaved: a join each, then random key presses."""
    return [*joins(games), *key_presses(games, (per_game - 1) * len(games), seed)]


def read_store(settings: Settings) -> dict[int, GameSnapshot]:
    """Every game in the store now; empty while there is no store yet."""
    try:
        with GameStore.of(settings) as store:
            return {snap.state.game_id: snap for snap in store.games()}
    except NoStore:
        return {}


def poll_store(
    settings: Settings, done: Callable[[dict[int, GameSnapshot]], bool], timeout_s: float = 60.0
) -> dict[int, GameSnapshot]:
    """Read the store until `done` holds, failing with what was last seen at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        snaps = read_store(settings)
        if done(snaps):
            return snaps
        if time.monotonic() > deadline:
            versions = {g: s.state.version for g, s in snaps.items()}
            raise AssertionError(f"store never got there; last seen versions {versions}")
        time.sleep(0.05)  # between polls, not instead of one


def reached(final: dict[int, int]) -> Callable[[dict[int, GameSnapshot]], bool]:
    return lambda snaps: all(g in snaps and snaps[g].state.version >= v for g, v in final.items())


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def store_ready(settings: Settings) -> bool:
    """The dataflow has initialised its recovery partitions."""
    try:
        with GameStore.of(settings) as store:
            store.check()
            return True
    except (NoStore, NotARecoveryStore):  # not there yet, or being created
        return False


def spread_store(settings: Settings, partitions: int = 3) -> None:
    """Initialise the recovery dir with several partitions, so games spread over files."""
    settings.recovery_dir.mkdir(parents=True)
    init_db_dir(settings.recovery_dir, partitions)


def test_the_cli_the_api_and_the_games_topic_agree(settings, run_dataflow) -> None:
    ordered = script(range(10), per_game=12)
    actions = by_game(ordered)
    spread_store(settings)
    flow = run_dataflow(workers=2)
    poll_store(settings, lambda snaps: store_ready(settings))
    data_dir = str(settings.data_dir)

    empty = run_cli("games", "list", "--data-dir", data_dir)
    assert (empty.exit_code, empty.stdout) == (0, "No games in the recovery store yet.\n")

    produce_actions(settings, ordered)
    final = {g: len(a) for g, a in actions.items()}
    on_topic = states_by_game(read_topic(settings, settings.games_topic, Reached(final)))
    stored = poll_store(settings, reached(final))

    flow.raise_if_exited()
    parts = [sqlite_utils.Database(p) for p in settings.recovery_dir.glob("part-*.sqlite3")]
    assert len(parts) == 3
    assert sum(db["snaps"].count > 1 for db in parts) >= 2  # the games really are spread
    assert set(stored) == set(actions)
    for g, snap in stored.items():
        assert snap.state == on_topic[g][-1] == fold(g, actions[g])
        assert snap.epoch < snap.resume_epoch
        assert 0 <= snap.age_s() < 60

    listing = run_cli("games", "list", "--data-dir", data_dir)
    assert listing.exit_code == 0
    rows = [line.split() for line in listing.stdout.splitlines()[1:]]
    assert [
        (int(game), status, winner, int(version), int(a), int(b))
        for game, status, winner, version, a, b, _age in rows
    ] == [
        (g, s.state.status, s.state.winner or "-", s.state.version,
         s.state.live_players("A"), s.state.live_players("B"))
        for g, s in sorted(stored.items())
    ]  # fmt: skip

    shown = run_cli("games", "show", "3", "--json", "--data-dir", data_dir)
    assert shown.exit_code == 0
    assert decode_state(shown.stdout) == stored[3].state
    board = run_cli("games", "show", "3", "--data-dir", data_dir)
    assert board.stdout.startswith("*** Game 3 ***\n")
    assert f"version {stored[3].state.version}" in board.stdout

    with TestClient(create_app(settings)) as client:
        detail = client.get("/games/3").json()
        first = client.get("/games", params={"limit": 4}).json()
        rest = client.get("/games", params={"after": first["next_after"], "limit": 100}).json()
    assert decode_state(json.dumps(detail["state"])) == stored[3].state
    assert detail["snapshot"]["epoch"] == stored[3].epoch
    assert detail["snapshot"]["resume_epoch"] >= stored[3].resume_epoch
    assert [g["game_id"] for g in first["games"]] == [0, 1, 2, 3]
    assert [g["game_id"] for g in rest["games"]] == list(range(4, 10))
    assert rest["next_after"] is None
    assert {g["game_id"]: g["version"] for g in first["games"] + rest["games"]} == final
    assert all("age_s" in g["snapshot"] for g in first["games"] + rest["games"])


def test_reads_while_the_dataflow_writes_see_only_folded_prefixes(settings, run_dataflow) -> None:
    ordered = script(range(20, 28), per_game=40, seed=9)
    actions = by_game(ordered)
    spread_store(settings)
    run_dataflow(workers=2)

    def produce_slowly() -> None:
        for start in range(0, len(ordered), 16):
            produce_actions(settings, ordered[start : start + 16])

    writer = threading.Thread(target=produce_slowly)
    writer.start()
    seen: dict[int, list[int]] = {g: [] for g in actions}

    def check(snaps: dict[int, GameSnapshot]) -> bool:
        for g, snap in snaps.items():
            version = snap.state.version
            assert snap.state == fold(g, actions[g][:version])
            seen[g].append(version)
        return all(g in snaps and snaps[g].state.version == len(a) for g, a in actions.items())

    poll_store(settings, check, timeout_s=90)
    writer.join()

    assert all(versions == sorted(versions) for versions in seen.values())
    assert sum(len(set(versions)) for versions in seen.values()) > len(actions)  # saw progress


def test_unknown_and_malformed_ids(settings, run_dataflow) -> None:
    produce_actions(settings, [Join(game_id=5, player="B2")])
    run_dataflow(workers=1)
    poll_store(settings, reached({5: 1}))
    data_dir = str(settings.data_dir)

    unknown = run_cli("games", "show", "6", "--data-dir", data_dir)
    assert (unknown.exit_code, unknown.stderr) == (1, "game 6 is not in the recovery store.\n")
    for bad in ["abc", "1.5", "-3"]:
        result = run_cli("games", "show", bad, "--data-dir", data_dir)
        assert result.exit_code == 2, bad
        assert "Traceback" not in result.output

    with TestClient(create_app(settings)) as client:
        assert client.get("/games/5").status_code == 200
        missing = client.get("/games/6")
        assert missing.status_code == 404
        assert missing.json() == {"message": "game 6 is not in the recovery store"}
        for bad in ["abc", "1.5", "-3", "9" * 30, "%00", "1e3"]:
            for path in [f"/games/{bad}", f"/games/{bad}/events"]:
                response = client.get(path)
                assert response.status_code == 422, path
                assert response.json()["message"].startswith("invalid request: path.game_id")
        for query in [{"limit": 0}, {"limit": "x"}, {"after": -2}, {"limit": 10**6}]:
            response = client.get("/games", params=query)
            assert response.status_code == 422, query
            assert "message" in response.json()


@pytest.fixture
def served(settings: Settings) -> Iterator[str]:
    """The API on uvicorn in a thread on a free port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    assert not thread.is_alive(), "uvicorn did not stop: an event stream outlived its client"


def events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """SSE events from a line iterator; comments (keepalives) skipped."""
    event: dict[str, str] = {}
    for line in lines:
        if line == "":
            if event:
                yield event
            event = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            event[field] = value.removeprefix(" ")


def test_the_event_stream_delivers_a_state_produced_after_connecting(
    settings, run_dataflow, served
) -> None:
    game = [Join(game_id=2, player="A3"), Move(game_id=2, player="A3", direction="down")]
    later = [
        Throw(game_id=2, player="B1", direction="up"),
        Move(game_id=6, player="A1", direction="down"),  # game 6 shares game 2's partition
    ]
    produce_actions(settings, game)
    run_dataflow(workers=2)
    poll_store(settings, reached({2: 2}))

    with httpx.stream("GET", f"{served}/games/2/events", timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response.iter_lines())
        first = next(stream)
        assert (first["event"], first["id"]) == ("state", "2")
        assert decode_state(first["data"]) == fold(2, game)

        produce_actions(settings, later)
        second = next(stream)

    assert second["id"] == "3"
    assert decode_state(second["data"]) == fold(2, [*game, later[0]])


def test_a_reconnecting_client_gets_only_newer_states(settings, run_dataflow, served) -> None:
    game = [Join(game_id=1, player="A3")] + [Move(game_id=1, player="A3", direction="down")] * 2
    produce_actions(settings, game)
    run_dataflow(workers=1)
    poll_store(settings, reached({1: 3}))
    produce_actions(settings, [Move(game_id=1, player="A3", direction="up")])

    with httpx.stream(
        "GET", f"{served}/games/1/events", headers={"Last-Event-ID": "3"}, timeout=30
    ) as response:
        first = next(events(response.iter_lines()))

    assert first["id"] == "4"


def test_the_api_follows_a_store_moved_aside_and_recreated(settings, run_dataflow) -> None:
    produce_actions(settings, [Join(game_id=5, player="B2"), Join(game_id=5, player="B3")])
    flow = run_dataflow(workers=1)
    poll_store(settings, reached({5: 2}))

    with TestClient(create_app(settings)) as client:
        assert client.get("/games/5").json()["state"]["version"] == 2
        flow.kill()
        settings.recovery_dir.rename(settings.data_dir / "recovery.stale")  # as `moba up` does
        gone = client.get("/games/5")
        assert gone.status_code == 503
        assert "no recovery store" in gone.json()["message"]

        produce_actions(settings, [Join(game_id=9, player="A1")])
        run_dataflow(workers=1)  # a fresh store: the whole log is replayed into it
        poll_store(settings, reached({5: 2, 9: 1}))
        assert client.get("/games/9").status_code == 200


def test_the_event_stream_says_so_when_kafka_cannot_be_reached(settings, run_dataflow) -> None:
    produce_actions(settings, [Join(game_id=4, player="A1")])
    run_dataflow(workers=1)
    poll_store(settings, reached({4: 1}))
    nowhere = settings.model_copy(update={"bootstrap_servers": f"127.0.0.1:{free_port()}"})

    with TestClient(create_app(nowhere)) as client, client.stream("GET", "/games/4/events") as r:
        sent = list(events(r.iter_lines()))

    assert [e["event"] for e in sent] == ["state", "error"]
    assert decode_state(sent[0]["data"]).version == 1
    assert json.loads(sent[1]["data"])["message"]
