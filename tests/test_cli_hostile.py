"""The CLI given bad settings, bad options, unknown players, or a store it must not resume.

A clear message and a non-zero exit every time, never a traceback: 2 for a usage error
(an option or a MOBA_* variable), 1 for what the command refuses to do. (Unusable
stores for `moba games` and the API: test_store_unavailable.py.)
"""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from bytewax.recovery import RecoveryConfig
from bytewax.testing import TestingSink, TestingSource, run_main
from confluent_kafka import Consumer, TopicPartition
from typer.testing import CliRunner

from cli.main import app as cli
from client.bots import run_bots
from dataflows.games import build_flow
from dataflows.records import Inbound
from domain.board import PLAYERS
from domain.models import Action, Join, Move
from domain.rules import new_game
from domain.wire import encode_action
from infra.kafka import consumer_config
from infra.settings import Settings
from tests.fakes import FakeServer
from tests.kafka_helpers import played_to_the_end
from tests.programs import MOBA
from tests.test_store_unavailable import corrupt, foreign_sqlite, other_dataflow


def store_of(tmp_path: Path, actions: list[Action]) -> Path:
    """A data dir whose store holds what the games flow itself made of `actions` (no broker)."""
    recovery = tmp_path / "recovery"
    from bytewax.recovery import init_db_dir

    recovery.mkdir()
    init_db_dir(recovery, 1)
    settings = Settings(partitions=4)
    inbound = [
        Inbound("actions", a.game_id % 4, i, str(a.game_id).encode(), encode_action(a))
        for i, a in enumerate(actions)
    ]
    flow = build_flow(TestingSource(inbound), TestingSink([]), settings)
    run_main(flow, epoch_interval=timedelta(0), recovery_config=RecoveryConfig(recovery))
    return tmp_path


def a_whole_game(game_id: int) -> list[Action]:
    """A join, then the actions of bots playing `game_id` to its end (`played_to_the_end`)."""
    join = Join(game_id=game_id, player="A1", action_id="join")
    return [join, *played_to_the_end(game_id, list(PLAYERS), seed=7)]


@pytest.fixture
def real_store(tmp_path: Path) -> Path:
    """A data dir whose store holds game 5, written by the games flow itself (no broker)."""
    moves = [Move(game_id=5, player="A1", direction="down", action_id=str(i)) for i in range(3)]
    return store_of(tmp_path, list(moves))


@pytest.mark.parametrize(
    ("game_id", "code"),
    [("-1", 2), ("abc", 2), ("", 2), ("1.5", 2), ("9007199254740992", 2), ("1" + "0" * 30, 2)],
)
def test_a_bad_game_id_is_a_message_and_a_non_zero_exit(
    real_store: Path, game_id: str, code: int
) -> None:
    ok = CliRunner().invoke(cli, ["games", "show", "5", "--data-dir", str(real_store)])
    result = CliRunner().invoke(cli, ["games", "show", game_id, "--data-dir", str(real_store)])

    assert ok.exit_code == 0, ok.output
    assert result.exit_code == code, result.output
    assert result.output.strip()
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


@pytest.mark.slow
@pytest.mark.parametrize("make", [corrupt, foreign_sqlite, other_dataflow])
def test_up_refuses_a_store_that_is_not_this_dataflows(settings, tmp_path, make) -> None:
    make(settings.recovery_dir)
    env = {**os.environ, **settings.as_env()}
    moba = os.path.join(os.path.dirname(sys.executable), "moba")

    up = subprocess.Popen(
        [moba, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = up.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        started = psutil.Process(up.pid).children(recursive=True)
        up.send_signal(signal.SIGINT)  # `moba up` stops what it started
        stdout, _ = up.communicate(timeout=30)
        for child in started:
            if child.is_running():
                child.kill()
        raise AssertionError(f"`moba up` started on {make.__name__}: {stdout}") from None

    assert up.returncode == 1, stdout + stderr
    assert "cannot run: " in stderr
    assert str(settings.recovery_dir) in stderr
    assert "Traceback" not in stdout + stderr


ENTRY_POINTS = [
    ["games", "list"],
    ["games", "show", "1"],
    ["games", "new"],
    ["topics", "list"],
    ["topics", "create"],
    ["client", "--game", "1", "--player", "A1"],
    ["bots", "--game", "1"],
    ["api"],
    ["demo"],
    ["up"],
    ["broker"],
]
BAD_SETTINGS = [
    ("MOBA_PARTITIONS", "abc", "valid integer"),
    ("MOBA_PARTITIONS", "0", "greater than or equal to 1"),
    ("MOBA_API_PORT", "99999", "less than or equal to 65535"),
    ("MOBA_EMBEDDED_BROKER", "kafka", "'tansu' or 'noida'"),
    ("MOBA_SECRET", "hunter2-secret", "at least 16 characters"),
]


@pytest.mark.parametrize("command", ENTRY_POINTS, ids=" ".join)
@pytest.mark.parametrize(("variable", "value", "what"), BAD_SETTINGS)
def test_every_entry_point_names_a_bad_setting_and_exits_2(
    tmp_path: Path, command: list[str], variable: str, value: str, what: str
) -> None:
    env = {variable: value, "MOBA_DATA_DIR": str(tmp_path), "MOBA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    result = CliRunner().invoke(cli, command, env=env)

    assert result.exit_code == 2, result.output
    if "Invalid value" in result.output:  # an option that reads its variable itself (moba api)
        assert f"(env var: '{variable}')" in result.output
    else:
        assert f"bad setting {variable}" in result.output and what in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    if variable == "MOBA_SECRET":
        assert value not in result.output


def test_the_installed_command_reports_every_bad_setting_on_its_own_line() -> None:
    env = {**os.environ, "MOBA_PARTITIONS": "abc", "MOBA_API_PORT": "-1"}
    done = subprocess.run([MOBA, "games", "list"], env=env, capture_output=True, text=True)

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "bad setting MOBA_PARTITIONS='abc': input should be a valid integer, "
        "unable to parse string as an integer",
        "bad setting MOBA_API_PORT='-1': input should be greater than or equal to 0",
    ]


@pytest.mark.parametrize(
    ("games", "why"),
    [
        ("abc", "'abc' is not a game id"),
        ("1-a", "'a' is not a game id"),
        (",,", "'' is not a game id or a range"),
        ("-3", "'-3' is not a game id or a range"),
        ("1-", "'1-' is not a game id or a range"),
        ("99999999999999999999", "is not a game id (0 to 9007199254740991)"),
        ("5-2", "the range 5-2 is empty"),
        ("1-1000000000", "more than 100,000 games"),
    ],
)
def test_bots_refuse_a_game_list_they_cannot_read_as_a_usage_error(games: str, why: str) -> None:
    result = CliRunner().invoke(cli, ["bots", "--game", games], env={"COLUMNS": "200"})

    assert result.exit_code == 2, result.output
    assert "Invalid value for '--game'" in result.output and why in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("players", ["Z9", "a2", "A1,,B6", ","])
def test_bots_refuse_unknown_players_as_a_usage_error(players: str) -> None:
    result = CliRunner().invoke(
        cli, ["bots", "--game", "1", "--players", players], env={"COLUMNS": "200"}
    )

    assert result.exit_code == 2, result.output
    assert "no player" in result.output and "choose from A1, A2" in result.output


def test_bots_given_no_seat_refuse_at_once_rather_than_wait_forever() -> None:
    with pytest.raises(ValueError, match="no seats"):
        run_bots(FakeServer(new_game(1)), [], rate=1, stop=threading.Event())


@pytest.mark.parametrize("player", ["Z9", "a2", "A6"])
def test_the_client_refuses_an_unknown_player_before_sending_anything(
    settings: Settings, player: str
) -> None:
    result = CliRunner().invoke(
        cli, ["client", "--game", "5", "--player", player], env=settings.as_env()
    )

    assert result.exit_code == 2, result.output
    assert f"no player {player!r}" in result.output
    assert messages_in(settings, settings.actions_topic) == 0


def test_games_new_refuses_the_id_of_a_finished_game(tmp_path: Path) -> None:
    data = store_of(tmp_path, a_whole_game(3))
    env = {"MOBA_DATA_DIR": str(data), "COLUMNS": "200"}

    finished = CliRunner().invoke(cli, ["games", "new", "--id", "3"], env=env)
    fresh = CliRunner().invoke(cli, ["games", "new"], env=env)

    assert finished.exit_code == 1, finished.output
    assert "Game 3 is over (finished, winner" in finished.output
    assert "is open" not in finished.output
    assert fresh.exit_code == 0 and "Game 4 is open" in fresh.output


def test_games_new_names_a_game_being_played_before_its_tokens(real_store: Path) -> None:
    result = CliRunner().invoke(
        cli, ["games", "new", "--id", "5"], env={"MOBA_DATA_DIR": str(real_store)}
    )

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Game 5 is being played (running, 5 A vs 5 B alive")


def messages_in(settings: Settings, topic: str) -> int:
    """How many messages `topic` holds: the sum of its partitions' end offsets."""
    consumer = Consumer(consumer_config(settings))
    try:
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(settings.partitions)
        )
    finally:
        consumer.close()


EARLY = [
    ["games", "list"],
    ["topics", "list"],
    ["bots", "--game", "1"],
    ["client", "--game", "1", "--player", "A1"],
    ["up"],
    ["demo"],
]


@pytest.mark.slow
@pytest.mark.parametrize("after_s", [0.0, 0.1, 0.25, 0.5])
@pytest.mark.parametrize("command", EARLY, ids=" ".join)
def test_ctrl_c_in_the_first_half_second_exits_130_without_a_traceback(
    tmp_path: Path, command: list[str], after_s: float
) -> None:
    from infra.broker import free_port

    env = {
        **os.environ,
        "MOBA_DATA_DIR": str(tmp_path),
        "MOBA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "MOBA_API_PORT": str(free_port()),
    }
    moba = subprocess.Popen(
        [MOBA, *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )  # fmt: skip
    loading = loading_moba(moba.pid)
    while time.monotonic() - loading < after_s:
        time.sleep(0.01)  # the moment to press Ctrl-C, not a wait for something
    finished_first = moba.poll() is not None  # `games list` may be done by then
    try:
        os.killpg(moba.pid, signal.SIGINT)  # what Ctrl-C sends: the whole group
    except ProcessLookupError:
        finished_first = True  # it ended (and was reaped) between the poll and the key
    try:
        _, stderr = moba.communicate(timeout=60)
    finally:
        leftovers = [p for p in psutil.process_iter(["environ"]) if _ours(p, tmp_path)]
        for process in leftovers:
            process.kill()

    assert finished_first or moba.returncode in (130, -signal.SIGINT), stderr
    assert "Traceback" not in stderr
    assert not leftovers, "Ctrl-C left processes behind"


def loading_moba(pid: int, timeout_s: float = 30.0) -> float:
    """When process `pid` began loading moba's commands (its first compiled library, pydantic's).

    Python's own start (site, every .pth file) comes before: a Ctrl-C there is the
    interpreter's to report, and on a loaded machine it lasts far longer than the
    ~30 ms of an idle one, so the test presses Ctrl-C from this moment on.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if any("_pydantic_core" in m.path for m in psutil.Process(pid).memory_maps()):
                return time.monotonic()
        except psutil.Error:  # it exited (e.g. `games list`, done before)
            return time.monotonic()
        time.sleep(0.002)  # the poll's period
    raise AssertionError("the command never began loading")


def _ours(process: psutil.Process, data_dir: Path) -> bool:
    """Whether `process` was started with this test's data dir (so by the command under test)."""
    try:
        return (process.info["environ"] or {}).get("MOBA_DATA_DIR") == str(data_dir)
    except (psutil.Error, KeyError):
        return False
