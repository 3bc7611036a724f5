"""Join tokens end to end: the real broker and dataflow with MOBA_SECRET set.

Every way of acting as someone else is `bad_token`, honest play is the fold through
`domain.auth.next_authentic_state`, and the secret shows up nowhere it could be read.
"""

from collections.abc import Callable
from functools import reduce

import psutil
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from api.app import create_app
from cli.main import app as cli
from cli.tokens import issue_tokens, tokens_for
from domain.auth import join_token, next_authentic_state
from domain.models import Action, GameState, Join, Move, Throw
from domain.rules import new_game
from domain.wire import decode_state, encode_action
from infra.kafka import partition_for
from infra.settings import Settings
from tests.kafka_helpers import Reached, produce_actions, produce_raw, read_topic, states_by_game
from tests.test_query_live import poll_store

SECRET = "the-server-secret-nobody-sees-42"
KEY = SECRET.encode()


def token(game_id: int, player: str, key: bytes = KEY) -> str:
    return join_token(key, game_id, player)


def authentic_fold(game_id: int, actions: list[Action]) -> GameState:
    """The oracle: the domain's fold with token checks."""
    return reduce(lambda s, a: next_authentic_state(s, a, KEY), actions, new_game(game_id))


def down(player: str, tok: str | None, action_id: str, game_id: int = 2) -> Move:
    return Move(game_id=game_id, player=player, direction="down", action_id=action_id, token=tok)


GAME_2 = [
    Join(game_id=2, player="A2", action_id="join", token=token(2, "A2")),
    down("A2", token(2, "A2"), "honest"),
    down("A2", None, "missing"),
    down("A2", token(2, "A3"), "another-player"),
    down("A2", token(3, "A2"), "another-game"),
    down("A2", "0123-not-a-token", "garbage"),
    down("A2", token(2, "A2", key=b"some-other-secret!"), "another-secret"),
    down("A3", token(2, "A2"), "a3-with-a2s-token"),
    Throw(game_id=2, player="B3", direction="up", action_id="b3-throws", token=token(2, "B3")),
]
GAME_3 = [down("A2", token(3, "A2"), "own-game", game_id=3)]


def closed(settings: Settings) -> Settings:
    settings.secret = SecretStr(SECRET)  # before the dataflow starts: it reads MOBA_SECRET
    return settings


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_every_cheat_is_bad_token_and_honest_play_is_unaffected(
    settings: Settings, run_dataflow: Callable[..., object], workers: int
) -> None:
    closed(settings)
    produce_actions(settings, GAME_2 + GAME_3)
    run_dataflow(workers=workers)

    messages = read_topic(settings, settings.games_topic, Reached({2: len(GAME_2), 3: 1}))

    games = states_by_game(messages)
    assert games[2] == [authentic_fold(2, GAME_2[: i + 1]) for i in range(len(GAME_2))]
    assert games[3] == [authentic_fold(3, GAME_3)]
    outcomes = {s.last.action_id: s.last.reason for s in games[2] + games[3] if s.last}
    assert outcomes == {
        "join": None,
        "honest": None,
        "missing": "bad_token",
        "another-player": "bad_token",
        "another-game": "bad_token",
        "garbage": "bad_token",
        "another-secret": "bad_token",
        "a3-with-a2s-token": "bad_token",
        "b3-throws": None,
        "own-game": None,
    }
    assert games[2][-1].players["A2"].y == 8  # moved once, by its own hand only
    tokens = {a.token.encode() for a in GAME_2 + GAME_3 if a.token}
    assert not any(t in m.value for m in messages for t in tokens)


@pytest.mark.slow
def test_the_secret_appears_in_no_topic_log_store_api_answer_or_command_line(
    settings: Settings, run_dataflow: Callable[..., object]
) -> None:
    closed(settings)
    misrouted = Join(game_id=5, player="A1", token=token(5, "A1"))
    assert partition_for(misrouted.game_id, settings.partitions) != 0  # so it lands in the DLQ
    produce_actions(settings, GAME_2)
    produce_raw(settings, [(0, encode_action(misrouted)), (0, b"{not json")])
    flow = run_dataflow(workers=1)

    games = read_topic(settings, settings.games_topic, Reached({2: len(GAME_2)}))
    letters = read_topic(settings, settings.dlq_topic, lambda ms: len(ms) >= 2)
    poll_store(settings, lambda snaps: 2 in snaps and snaps[2].state.version == len(GAME_2))
    with TestClient(create_app(settings)) as api:
        answers = [api.get(path).content for path in API_PATHS]
    command_lines = [" ".join(p.cmdline()) for p in _processes()]

    secret = KEY
    assert not any(secret in m.value for m in games)
    assert not any(
        secret in (m.value or b"") or secret in b"".join(m.headers.values()) for m in letters
    )
    assert secret not in flow.log_path.read_bytes()
    assert not any(secret in path.read_bytes() for path in settings.recovery_dir.iterdir())
    assert not any(secret in answer for answer in answers)
    assert not any(SECRET in line for line in command_lines)
    # the DLQ keeps undecodable or misrouted messages byte for byte, tokens included (by design)
    assert {m.headers["moba.reason"] for m in letters} == {b"wrong_partition", b"not_json"}


API_PATHS = ["/health", "/games", "/games/2", "/games/999", "/games/x", "/openapi.json"]


def _processes() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            process.cmdline()
            found.append(process)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


runner = CliRunner()


def test_games_new_prints_each_players_token_under_the_secret(tmp_path) -> None:
    env = {"MOBA_SECRET": SECRET, "MOBA_DATA_DIR": str(tmp_path)}
    result = runner.invoke(cli, ["games", "new", "--id", "7"], env=env)

    assert result.exit_code == 0, result.output
    lines = dict(line.split() for line in result.output.splitlines() if len(line.split()) == 2)
    assert lines == {p: token(7, p) for p in new_game(7).players}
    assert "Game 7" in result.output and SECRET not in result.output


def test_games_new_without_a_secret_says_the_game_is_open(tmp_path) -> None:
    result = runner.invoke(cli, ["games", "new"], env={"MOBA_DATA_DIR": str(tmp_path)})

    assert result.exit_code == 0, result.output
    assert "Game 1 is open: no MOBA_SECRET is set, so no token is needed." in result.output


def test_bots_and_the_demo_get_the_tokens_games_new_prints() -> None:
    settings = Settings(secret=SecretStr(SECRET))
    seats = [(4, "A1"), (4, "B5"), (9, "A1")]

    assert tokens_for(settings, seats) == {(g, p): token(g, p) for g, p in seats}
    assert tokens_for(Settings(), seats) == {}
    assert issue_tokens(Settings(), 4) is None


def test_a_too_short_secret_is_refused_without_echoing_it(tmp_path) -> None:
    env = {"MOBA_SECRET": "hunter2", "MOBA_DATA_DIR": str(tmp_path)}
    result = runner.invoke(cli, ["games", "new"], env=env)

    assert result.exit_code == 2
    assert "MOBA_SECRET" in result.output and "hunter2" not in result.output


@pytest.mark.slow
def test_games_new_picks_an_id_above_every_game_in_the_store(
    settings: Settings, run_dataflow: Callable[..., object]
) -> None:
    produce_actions(settings, [Join(game_id=g, player="A1") for g in (3, 12)])
    run_dataflow(workers=1)
    poll_store(settings, lambda snaps: {3, 12} <= set(snaps))

    result = runner.invoke(cli, ["games", "new"], env=settings.as_env())

    assert result.exit_code == 0, result.output
    assert "Game 13 is open" in result.output


@pytest.mark.slow
def test_bots_play_a_closed_game_with_the_tokens_games_new_issues(
    settings: Settings, run_dataflow: Callable[..., object]
) -> None:
    closed(settings)
    run_dataflow(workers=1)
    # the dataflow answers before the bots' few seconds start, however loaded the machine
    tokens = issue_tokens(settings, 4)
    assert tokens is not None
    produce_actions(settings, [Join(game_id=4, player="A1", token=tokens["A1"])])
    read_topic(
        settings,
        settings.games_topic,
        Reached({4: 1}),
        partitions=[partition_for(4, settings.partitions)],
    )
    result = runner.invoke(
        cli,
        ["bots", "--game", "4", "--players", "A1,B1", "--rate", "20", "--duration", "3"],
        env=settings.as_env(),
    )
    assert result.exit_code == 0, result.output

    states = [
        decode_state(m.value)
        for m in read_topic(settings, settings.games_topic, lambda ms: len(ms) >= 5)
    ]
    reasons = {s.last.reason for s in states if s.last is not None}
    assert states and "bad_token" not in reasons
