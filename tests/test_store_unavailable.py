"""No store, an empty one, a corrupt one, a foreign SQLite file, another dataflow's store.

Each gives the CLI a clear message and a non-zero exit, and the API a 503 with a JSON
message; never a traceback. Stores here are real files (a real Bytewax run for the
other dataflow's), built without a broker.
"""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import bytewax.operators as op
import pytest
import sqlite_utils
from bytewax.dataflow import Dataflow
from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.testing import TestingSink, TestingSource, run_main
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from cli.games import STORE_UNAVAILABLE
from cli.main import app as cli
from infra.settings import Settings


def missing(recovery: Path) -> None:
    """Nothing at all: the dataflow never ran."""


def empty(recovery: Path) -> None:
    recovery.mkdir(parents=True)


def initialising(recovery: Path) -> None:
    """The dataflow has created a partition file but not its tables yet."""
    recovery.mkdir(parents=True)
    (recovery / "part-0.sqlite3").touch()


def corrupt(recovery: Path) -> None:
    recovery.mkdir(parents=True)
    (recovery / "part-0.sqlite3").write_bytes(b"this is not a database " * 100)


def foreign_sqlite(recovery: Path) -> None:
    recovery.mkdir(parents=True)
    db = sqlite_utils.Database(recovery / "part-0.sqlite3")
    db["snaps"].insert({"id": 1, "note": "a table that merely shares a name"})
    db.close()


def other_dataflow(recovery: Path) -> None:
    """A real recovery store, of a dataflow that counts words: no game states in it."""
    recovery.mkdir(parents=True)
    init_db_dir(recovery, 2)
    flow = Dataflow("word_count")
    words = op.input("words", flow, TestingSource(["a", "b", "a"]))
    counts = op.stateful_map(
        "count", op.key_on("key", words, str), lambda n, _: ((n or 0) + 1,) * 2
    )
    op.output("out", counts, TestingSink([]))
    run_main(flow, epoch_interval=timedelta(0), recovery_config=RecoveryConfig(recovery))


STORES = [missing, empty, initialising, corrupt, foreign_sqlite, other_dataflow]


@pytest.fixture(params=STORES, ids=lambda make: make.__name__)
def unusable(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A data dir whose `recovery/` cannot be read as the game dataflow's store."""
    make: Callable[[Path], None] = request.param
    make(tmp_path / "recovery")
    return tmp_path


@pytest.mark.parametrize("args", [["games", "list"], ["games", "show", "2"]])
def test_the_cli_says_why_and_exits_non_zero(unusable: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, [*args, "--data-dir", str(unusable)])

    assert result.exit_code == STORE_UNAVAILABLE, result.output
    assert result.stderr.startswith("Cannot read games: ")
    assert str(unusable / "recovery") in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("path", ["/games", "/games/2", "/games/2/events"])
def test_the_api_answers_503_with_a_message(unusable: Path, path: str) -> None:
    with TestClient(create_app(Settings(data_dir=unusable))) as client:
        response = client.get(path)
        health = client.get("/health")

    assert response.status_code == 503
    assert str(unusable / "recovery") in response.json()["message"]
    assert health.status_code == 200
    assert health.json()["store"] == "unavailable"


def test_another_dataflows_store_is_named_as_such(tmp_path: Path) -> None:
    other_dataflow(tmp_path / "recovery")

    result = CliRunner().invoke(cli, ["games", "list", "--data-dir", str(tmp_path)])

    assert "another dataflow's recovery data" in result.stderr


def test_a_wrong_method_is_a_json_405_that_says_which_methods_are_allowed(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        response = client.request("TRACE", "/health")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.json()["message"] == "Method Not Allowed"
