"""The CLI given bad game ids, or `moba up` given a recovery store it must not resume.

A clear message and a non-zero exit every time, never a traceback. (Unusable stores
for `moba games` and the API: test_store_unavailable.py.)
"""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from bytewax.recovery import RecoveryConfig
from bytewax.testing import TestingSink, TestingSource, run_main
from typer.testing import CliRunner

from cli.main import app as cli
from dataflows.games import build_flow
from dataflows.records import Inbound
from domain.models import Move
from domain.wire import encode_action
from infra.settings import Settings
from tests.test_store_unavailable import corrupt, foreign_sqlite, other_dataflow


@pytest.fixture
def real_store(tmp_path: Path) -> Path:
    """A data dir whose store holds game 5, written by the games flow itself (no broker)."""
    recovery = tmp_path / "recovery"
    from bytewax.recovery import init_db_dir

    recovery.mkdir()
    init_db_dir(recovery, 1)
    settings = Settings(partitions=4)
    moves = [Move(game_id=5, player="A1", direction="down", action_id=str(i)) for i in range(3)]
    inbound = [Inbound("actions", 1, i, b"5", encode_action(m)) for i, m in enumerate(moves)]
    flow = build_flow(TestingSource(inbound), TestingSink([]), settings)
    run_main(flow, epoch_interval=timedelta(0), recovery_config=RecoveryConfig(recovery))
    return tmp_path


@pytest.mark.parametrize(
    ("game_id", "code"),
    [("-1", 2), ("abc", 2), ("", 2), ("1.5", 2), ("9007199254740992", 1), ("1" + "0" * 30, 1)],
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
