"""What an operator reads and cleans: stores moved aside, logs, dead letters, topics."""

import json
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from domain.models import Join
from infra.recovery import move_aside, remove_older_aside
from infra.settings import Settings
from tests.kafka_helpers import produce_actions, produce_raw
from tests.programs import MOBA
from tests.test_cli_hostile import store_of


def a_store(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "part-0.sqlite3").write_bytes(b"snapshots")
    return directory


def test_moving_a_store_aside_keeps_only_the_last_one_moved_and_names_those_removed(
    tmp_path: Path,
) -> None:
    moved = []
    for _ in range(3):
        aside = move_aside(a_store(tmp_path / "recovery"))
        moved.append((aside, remove_older_aside(aside)))

    assert [removed for _, removed in moved] == [[], [moved[0][0]], [moved[1][0]]]
    assert sorted(tmp_path.iterdir()) == [moved[-1][0]]
    assert (moved[-1][0] / "part-0.sqlite3").read_bytes() == b"snapshots"
    assert all(aside.name.startswith("recovery.stale-") for aside, _ in moved)


def test_logs_shows_the_end_of_a_log_and_lists_them_all(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "dataflow.log").write_text("".join(f"line {n}\n" for n in range(100_000)))
    (logs / "api.log").write_text("started\n")
    env = {"MOBA_DATA_DIR": str(tmp_path)}

    tail = CliRunner().invoke(cli, ["logs", "dataflow", "-n", "3"], env=env)
    listing = CliRunner().invoke(cli, ["logs"], env=env)
    unknown = CliRunner().invoke(cli, ["logs", "brokr"], env=env)

    assert tail.exit_code == 0 and tail.output == "line 99997\nline 99998\nline 99999\n"
    assert [line.split()[0] for line in listing.output.splitlines()] == ["api", "dataflow"]
    assert unknown.exit_code == 1
    assert "no log 'brokr'" in unknown.output and "(there: api, dataflow)" in unknown.output


@pytest.mark.slow
def test_logs_follow_prints_lines_as_they_are_written_until_ctrl_c(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "broker.log"
    log.parent.mkdir()
    log.write_text("old\n")
    env = {**os.environ, "MOBA_DATA_DIR": str(tmp_path)}
    follower = subprocess.Popen(
        [MOBA, "logs", "broker", "-f"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert next_line(follower) == b"old\n"
        with log.open("a") as writing:
            writing.write("new\n")
        assert next_line(follower) == b"new\n"
    finally:
        follower.send_signal(signal.SIGINT)
        _, stderr = follower.communicate(timeout=30)

    assert follower.returncode == 130 and b"Traceback" not in stderr


def next_line(process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> bytes:
    """The next line `process` prints, or a failure at the deadline."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout_s)
    assert ready, "no line before the deadline"
    return process.stdout.readline()


def test_topics_list_and_describe_say_partitions_offsets_and_configs(settings: Settings) -> None:
    for g in range(5):  # a batch each: Tansu's end offset is its last batch's first offset + 1
        produce_actions(settings, [Join(game_id=g, player="A1")])
    env = settings.as_env()

    listed = json.loads(CliRunner().invoke(cli, ["topics", "list", "--json"], env=env).output)
    described = CliRunner().invoke(cli, ["topics", "describe", "--json"], env=env)
    shown = CliRunner().invoke(cli, ["topics", "describe", settings.actions_topic], env=env)
    missing = CliRunner().invoke(cli, ["topics", "describe", "no-such-topic"], env=env)

    ours = {row["topic"]: row["partitions"] for row in listed if row["game"]}
    assert ours == {
        t: 4 for t in (settings.actions_topic, settings.games_topic, settings.dlq_topic)
    }
    assert described.exit_code == 0, described.output
    actions, games, dlq = json.loads(described.output)
    assert [p["partition"] for p in actions["partitions"]] == [0, 1, 2, 3]
    assert sum(p["end"] - p["start"] for p in actions["partitions"]) == 5
    assert sum(p["end"] for p in games["partitions"] + dlq["partitions"]) == 0
    assert actions["configs"] is not None or actions["configs_error"]
    assert (
        shown.exit_code == 0
        and f"{settings.actions_topic}: 4 partitions, 5 messages held" in shown.output
    )
    assert missing.exit_code == 1 and "no topic 'no-such-topic'" in missing.output


@pytest.mark.slow
def test_dlq_shows_each_dead_letter_with_its_reason_detail_and_source(
    settings: Settings, run_dataflow: Callable[..., object]
) -> None:
    produce_raw(settings, [(1, b"not json"), (2, b'{"type": "fly"}')])
    run_dataflow(workers=1)
    env = settings.as_env()

    deadline = time.monotonic() + 60
    while len(letters := dead_letters(env)) < 2:
        assert time.monotonic() < deadline, letters
        time.sleep(0.2)  # between reads, not instead of one
    people = CliRunner().invoke(cli, ["dlq"], env=env)

    assert sorted((letter["source"], letter["value"]) for letter in letters) == [
        (f"{settings.actions_topic}/1/0", "not json"),
        (f"{settings.actions_topic}/2/0", '{"type": "fly"}'),
    ]
    assert all(letter["reason"] and letter["detail"] for letter in letters)
    assert people.exit_code == 0 and "2 dead letter(s)" in people.output
    assert f"{settings.actions_topic}/1/0  {letters[0]['reason']}" in people.output or (
        f"{settings.actions_topic}/1/0  {letters[1]['reason']}" in people.output
    )


def dead_letters(env: dict[str, str]) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, ["dlq", "--json"], env=env)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_the_command_says_its_version_and_completes_in_the_shell() -> None:
    version = subprocess.run([MOBA, "--version"], capture_output=True, text=True)
    env = {
        **os.environ,
        "_MOBA_COMPLETE": "complete_bash",
        "COMP_WORDS": "moba top",
        "COMP_CWORD": "1",
    }
    completed = subprocess.run([MOBA], env=env, capture_output=True, text=True)

    assert version.returncode == 0 and version.stdout.startswith("moba ")
    assert completed.stdout.split() == ["topics"]


@pytest.mark.slow
def test_the_bots_summary_is_one_json_object_with_json(
    settings: Settings, run_dataflow: Callable[..., object]
) -> None:
    run_dataflow(workers=1)
    result = CliRunner().invoke(
        cli,
        ["bots", "--game", "2", "--rate", "10", "--duration", "3", "--json"],
        env=settings.as_env(),
    )

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["sent"] > 0 and summary["answered"] > 0 and summary["undelivered"] == 0
    assert summary["latency_p50_ms"] is not None and 0 < summary["latency_p50_ms"] < 5000
    assert "bots in 1 game(s)" in result.stderr


def test_games_list_as_json_has_every_game_with_plain_values(tmp_path: Path) -> None:
    data = store_of(tmp_path, [Join(game_id=g, player="B2", action_id=str(g)) for g in (4, 9)])

    result = CliRunner().invoke(cli, ["games", "list", "--json", "--data-dir", str(data)])

    assert result.exit_code == 0, result.output
    games = json.loads(result.stdout)
    assert [(g["game_id"], g["status"], g["version"], g["archived"]) for g in games] == [
        (4, "running", 1, False),
        (9, "running", 1, False),
    ]
    assert all(isinstance(g["age_s"], float) for g in games)


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["client"], ["[env var: MOBA_TOKEN]"]),
        (["api"], ["[env var: MOBA_API_PORT]", "[default: (8000)]", "[default: (.moba)]"]),
        (["demo"], ["[default: (9092, or a free port if 9092 is taken)]"]),
        (["logs"], ["[default: (list them)]", "[default: 40]"]),
        (["games", "list"], ["[env var: MOBA_DATA_DIR]", "--json"]),
    ],
)
def test_help_shows_each_options_variable_and_default(command: list[str], shown: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"], env={"COLUMNS": "300"})

    assert result.exit_code == 0
    for text in shown:
        assert text in result.output


def test_dlq_on_a_topic_without_dead_letters_says_so_at_once(settings: Settings) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["dlq"], env=settings.as_env())

    assert result.exit_code == 0, result.output
    assert result.output == f"no dead letters on {settings.dlq_topic}\n"
    assert time.monotonic() - started < 10
