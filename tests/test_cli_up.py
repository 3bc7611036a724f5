"""`moba topics` and `moba up` as a person runs them: friendly errors, clean start and stop."""

import contextlib
import os
import signal
import subprocess
import time

import httpx
import psutil
import pytest
from confluent_kafka.admin import AdminClient, ConfigResource
from typer.testing import CliRunner

from cli.main import app
from domain.models import Join
from domain.wire import decode_state
from infra.broker import free_port
from infra.settings import Settings
from tests.kafka_helpers import Reached, produce_actions, read_topic, until_committed
from tests.programs import MOBA

runner = CliRunner()


def test_topics_create_is_idempotent_and_says_what_it_did(settings) -> None:
    env = settings.as_env()
    first = runner.invoke(app, ["topics", "create"], env=env)
    again = runner.invoke(app, ["topics", "create"], env={**env, "MOBA_GAMES_TOPIC": "fresh-games"})

    assert first.exit_code == 0 and again.exit_code == 0
    assert f"{settings.actions_topic}: exists" in first.output
    assert "fresh-games: created" in again.output


def test_the_actions_log_is_never_trimmed(settings) -> None:
    """A new recovery store rebuilds every game from `actions` offset 0 (dataflows/source.py)."""
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    topics = [settings.actions_topic, settings.games_topic]
    futures = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, t) for t in topics])
    retention = {
        resource.name: future.result(30).get("retention.ms") for resource, future in futures.items()
    }

    assert retention[settings.actions_topic].value == "-1"
    assert retention[settings.games_topic] is None or retention[settings.games_topic].value != "-1"


def test_an_unreachable_broker_is_a_message_and_exit_code_not_a_traceback() -> None:
    result = runner.invoke(app, ["topics", "create"], env={"MOBA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})

    assert result.exit_code == 1
    assert "no Kafka broker answers at 127.0.0.1:1" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_up_runs_the_backend_stops_on_ctrl_c_and_never_resumes_a_stale_store(tmp_path) -> None:
    port = free_port()
    settings = Settings(
        bootstrap_servers=f"127.0.0.1:{port}",
        data_dir=tmp_path / "data",
        api_port=free_port(),
        embedded_broker="tansu",  # in memory: a restart finds its log empty
    )
    env = {**os.environ, **settings.as_env()}

    first = start_up(env, tmp_path / "up-1.log")
    try:
        wait_for_line(tmp_path / "up-1.log", "Ctrl-C stops", first)
        wait_for_line(tmp_path / "up-1.log", "games are open: no MOBA_SECRET", first)
        produce_actions(settings, [Join(game_id=3, player="B2", action_id="hi")])
        [msg] = read_topic(settings, settings.games_topic, Reached({3: 1}), partitions=[3])
        assert decode_state(msg.value).last.action_id == "hi"
        assert api_answers(f"http://127.0.0.1:{settings.api_port}/health")
    finally:
        children = stop_up(first)
    assert first.returncode == 130  # stopped by Ctrl-C, as a shell expects
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]

    second = start_up(env, tmp_path / "up-2.log")
    try:
        wait_for_line(tmp_path / "up-2.log", "Ctrl-C stops", second)
    finally:
        stop_up(second)
    log = (tmp_path / "up-2.log").read_text()
    assert "is stale (the embedded broker was just started, empty); moved to" in log
    assert list(tmp_path.joinpath("data").glob("recovery.stale-*"))


@pytest.mark.slow
def test_up_resumes_games_after_a_restart_when_the_embedded_broker_keeps_its_log(
    tmp_path,
) -> None:
    settings = Settings(
        bootstrap_servers=f"127.0.0.1:{free_port()}",
        data_dir=tmp_path / "data",
        api_port=free_port(),
        embedded_broker="noida",
    )
    env = {**os.environ, **settings.as_env()}
    first = start_up(env, tmp_path / "up-1.log")
    try:
        wait_for_line(tmp_path / "up-1.log", "Ctrl-C stops", first)
        produce_actions(settings, [Join(game_id=3, player="B2", action_id="before")])
        read_topic(settings, settings.games_topic, Reached({3: 1}), partitions=[3])
        until_committed(settings, {3: 1})
    finally:
        stop_up(first)
    assert "its log is kept" in (tmp_path / "up-1.log").read_text()

    second = start_up(env, tmp_path / "up-2.log")
    try:
        wait_for_line(tmp_path / "up-2.log", "Ctrl-C stops", second)
        produce_actions(settings, [Join(game_id=3, player="C3", action_id="after")])
        states = read_topic(settings, settings.games_topic, Reached({3: 2}), partitions=[3])
    finally:
        stop_up(second)
    log = (tmp_path / "up-2.log").read_text()
    assert "recovery: resuming from" in log and "stale" not in log
    last = decode_state(states[-1].value)
    assert (last.version, last.last.action_id) == (2, "after")
    assert not list(tmp_path.joinpath("data").glob("recovery.stale-*"))


def api_answers(url: str, timeout_s: float = 30) -> bool:
    """Whether the API `moba up` started answers `url` before the deadline."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        time.sleep(0.1)
    return False


def start_up(env: dict[str, str], log_path) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [MOBA, "up"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop_up(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """Ctrl-C `moba up`; returns the processes it had started, for checking none is left."""
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGINT)
    process.wait(30)
    return children


def wait_for_line(log_path, text: str, process: subprocess.Popen[bytes], timeout_s: float = 30):
    deadline = time.monotonic() + timeout_s
    while text not in log_path.read_text():
        assert process.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.1)
