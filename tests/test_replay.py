"""Games replayed from the `actions` log on the real broker, against the pure fold and the real dataflow.

The fold of a game's actions is the oracle; the dataflow's states on `games` must equal
the replay byte for byte; a trimmed log is refused, never replayed into a wrong state.
"""

import json
import random
import subprocess

import pytest
from confluent_kafka import Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from api.app import create_app
from bench.workload import by_game, realistic_games
from cli.main import app as cli
from dataflows.launch import REPO_ROOT
from domain.auth import join_token
from domain.models import Join, Move
from domain.rules import fold
from domain.wire import encode_action, encode_state
from infra.audit import audit
from infra.broker import free_port
from infra.history import LogTrimmed, LogUnavailable
from infra.kafka import game_key, partition_for, producer_config
from infra.replay import NoSuchVersion, replay
from infra.settings import Settings
from tests.kafka_helpers import Reached, produce_actions, produce_raw, read_topic
from tests.programs import MOBA
from tests.terminal import Terminal

pytestmark = pytest.mark.slow

GAME = 6


def script(settings: Settings) -> dict[int, list]:
    """Six games interleaved, with messages the dataflow dead-letters between them."""
    actions = realistic_games(6, 240, seed=16, first_id=GAME)
    produce_actions(settings, actions[:100])
    home = partition_for(GAME, settings.partitions)
    stray = Move(game_id=GAME, player="A1", direction="down", action_id="stray")
    produce_raw(
        settings,
        [
            (home, b"not json"),
            (home, b'{"type": "dance", "game_id": 6}'),
            ((home + 1) % settings.partitions, encode_action(stray)),  # on the wrong partition
            (home, b"x" * (settings.max_action_bytes + 1)),
        ],
    )
    produce_actions(settings, actions[100:])
    return by_game(actions)


def write_states(settings: Settings, game_id: int, values: list[bytes]) -> None:
    """Write `values` to the game's `games` partition, as the dataflow's sink would."""
    producer = Producer(producer_config(settings))
    for value in values:
        producer.produce(
            settings.games_topic,
            value,
            game_key(game_id),
            partition=partition_for(game_id, settings.partitions),
        )
    assert producer.flush(30) == 0


def folded(game_id: int, actions: list) -> list[bytes]:
    return [encode_state(fold(game_id, actions[: v + 1])) for v in range(len(actions))]


def test_every_game_replays_to_the_states_the_dataflow_wrote(settings, run_dataflow) -> None:
    games = script(settings)
    run_dataflow(workers=2)
    read_topic(settings, settings.games_topic, Reached({g: len(a) for g, a in games.items()}))

    for game_id, actions in games.items():
        report, rebuilt = audit(settings, game_id)
        assert report.ok, report.summary()
        assert report.matched == rebuilt.latest == len(actions)
        assert rebuilt.state(rebuilt.latest) == fold(game_id, actions)


def test_the_state_at_random_versions_equals_the_folds_prefix(settings) -> None:
    games = script(settings)
    rng = random.Random(16)

    for game_id, actions in games.items():
        rebuilt = replay(settings, game_id)
        assert rebuilt.latest == len(actions)
        for version in [0, len(actions), *rng.sample(range(1, len(actions)), 8)]:
            assert rebuilt.state(version) == fold(game_id, actions[:version]), version
    with pytest.raises(NoSuchVersion, match=r"holds versions 0 \(before the first action\) to 40"):
        rebuilt.state(41)


def test_a_trimmed_log_is_refused_not_replayed(settings) -> None:
    if settings.embedded_broker == "tansu":
        pytest.skip("Tansu 0.6 does not implement DeleteRecords: its logs cannot be trimmed")
    games = script(settings)
    partition = partition_for(GAME, settings.partitions)
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    for future in admin.delete_records(
        [TopicPartition(settings.actions_topic, partition, 3)]
    ).values():
        future.result(30)

    with pytest.raises(LogTrimmed, match=r"starts at offset 3: the log was trimmed"):
        replay(settings, GAME)
    result = CliRunner().invoke(
        cli, ["games", "show", str(GAME), "--at", "2"], env=settings.as_env()
    )
    assert result.exit_code == 4
    assert "the log was trimmed" in result.output and "retention.ms=-1" in result.output
    with TestClient(create_app(settings)) as client:
        response = client.get(f"/games/{GAME}", params={"version": 2})
    assert response.status_code == 410
    assert "trimmed" in response.json()["message"]
    assert len(games[GAME]) > 2


def test_audit_names_the_first_version_that_differs_and_forgives_identical_re_sends(
    settings,
) -> None:
    games = script(settings)
    states = folded(GAME, games[GAME])
    tampered = states[4].replace(b'"alive":true', b'"alive":false', 1)
    write_states(settings, GAME, [*states[:4], *states[1:4], tampered, *states[5:]])

    result = CliRunner().invoke(cli, ["games", "audit", str(GAME)], env=settings.as_env())

    assert result.exit_code == 1, result.output
    assert "version 5 differs: the state differs" in result.output
    assert "3 re-sent identically" in result.output
    assert "alive: recorded false, replayed true" in result.output
    write_states(settings, GAME + 4, folded(GAME + 4, games[GAME + 4]))
    result = CliRunner().invoke(
        cli, ["games", "audit", str(GAME + 4), "--json"], env=settings.as_env()
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["ok"] and body["replayed"] == body["recorded"] == len(games[GAME + 4])


def test_show_at_prints_the_folded_state_and_names_bad_versions(settings) -> None:
    games = script(settings)
    env = {**settings.as_env(), "COLUMNS": "200"}
    run = lambda *args: CliRunner().invoke(cli, ["games", *args], env=env)  # noqa: E731

    result = run("show", str(GAME), "--at", "7", "--json")
    assert result.exit_code == 0, result.output
    assert result.output.strip().encode() == encode_state(fold(GAME, games[GAME][:7]))
    result = run("show", str(GAME), "--at", "0")
    assert (
        result.exit_code == 0
        and "version 0 of 40 in the actions log: the new game, before its first action"
        in result.output
    )
    assert "*** Game 6 ***" in result.output

    beyond = run("show", str(GAME), "--at", "41")
    assert beyond.exit_code == 2 and "game 6 has no version 41" in beyond.output
    negative = run("show", str(GAME), "--at", "-1")
    assert (
        negative.exit_code == 2
        and "'--at': Input should be greater than or equal to 0" in negative.output
    )
    words = run("show", str(GAME), "--at", "seven")
    assert words.exit_code == 2 and "'--at': Input should be a valid integer" in words.output
    unknown = run("show", "999", "--at", "1")
    assert unknown.exit_code == 1 and "game 999: no action of it" in unknown.output
    nowhere = CliRunner().invoke(
        cli,
        ["games", "audit", str(GAME)],
        env={**env, "MOBA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"},
    )
    assert nowhere.exit_code == 3 and "Cannot read the log" in nowhere.output
    assert "Traceback" not in nowhere.output


def test_the_api_answers_a_version_from_the_log(settings) -> None:
    games = script(settings)

    with TestClient(create_app(settings)) as client:
        at = client.get(f"/games/{GAME}", params={"version": 12})
        beyond = client.get(f"/games/{GAME}", params={"version": 99})
        negative = client.get(f"/games/{GAME}", params={"version": -1})
        words = client.get(f"/games/{GAME}", params={"version": "twelve"})
        unknown = client.get("/games/999", params={"version": 1})

    assert at.status_code == 200
    body = at.json()
    assert body["state"] == json.loads(encode_state(fold(GAME, games[GAME][:12])))
    assert body["replayed_from"]["version"] == 12
    assert body["replayed_from"]["latest_version"] == len(games[GAME])
    assert beyond.status_code == 404 and "no version 99" in beyond.json()["message"]
    assert negative.status_code == 422 and "version" in negative.json()["message"]
    assert words.status_code == 422 and "version" in words.json()["message"]
    assert unknown.status_code == 404 and "game 999: no action of it" in unknown.json()["message"]


def test_replay_plays_the_game_in_the_terminal_and_q_stops_it(settings, terminal: Terminal) -> None:
    games = script(settings)
    final = fold(GAME, games[GAME])

    terminal.start(
        [MOBA, "games", "replay", str(GAME), "--speed", "1000"], settings.as_env(), REPO_ROOT
    )
    screen = terminal.wait_for(lambda s: f"Version {final.version} of {final.version}" in s)
    assert "replay from the actions log" in screen and "the end" in screen
    terminal.keys("Left")
    terminal.wait_for(lambda s: f"Version {final.version - 1} of" in s and "paused" in s)
    terminal.keys("q")
    terminal.wait_for(lambda s: terminal.exited(), timeout_s=10)
    assert "Traceback" not in terminal.screen()


def test_replay_into_a_pipe_prints_one_line_per_version(settings) -> None:
    games = script(settings)

    done = subprocess.run(
        [MOBA, "games", "replay", str(GAME)],
        env={**settings.as_env(), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["VERSION", "OFFSET", "MOVE"]
    assert [int(line.split()[0]) for line in lines[1 : 1 + len(games[GAME])]] == list(
        range(1, len(games[GAME]) + 1)
    )


def test_an_unreachable_broker_is_a_clear_error(tmp_path) -> None:
    nowhere = Settings(bootstrap_servers=f"127.0.0.1:{free_port()}", data_dir=tmp_path)

    with pytest.raises(LogUnavailable, match=r"cannot read actions\[2\] from the broker at"):
        replay(nowhere, 2)


def test_join_tokens_are_judged_again_with_the_servers_secret(settings, run_dataflow) -> None:
    settings.secret = SecretStr("a-secret-of-the-replay-tests")
    token = join_token(settings.secret_key, GAME, "A1")
    actions = [
        Join(game_id=GAME, player="A1", token=token),
        Move(game_id=GAME, player="A1", direction="down", token=token),
        Move(game_id=GAME, player="A1", direction="down"),  # no token: bad_token
        Move(game_id=GAME, player="B1", direction="up", token=token),  # A1's: bad_token
    ]
    produce_actions(settings, actions)
    run_dataflow()
    read_topic(settings, settings.games_topic, Reached({GAME: len(actions)}))

    report, rebuilt = audit(settings, GAME)

    assert report.ok, report.summary()
    reasons = [rebuilt.state(v).last.reason for v in range(1, 5)]
    assert reasons == [None, None, "bad_token", "bad_token"]
    settings.secret = None  # a replay must run with the server's secret, and audit says so
    assert audit(settings, GAME)[0].mismatch.version == 3
