"""Both embedded brokers start, stop and clean up the same way; noida keeps its log, tansu forgets.

These run whatever MOBA_EMBEDDED_BROKER says, so the default CI run covers both.
"""

from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from bench.workload import fresh_settings
from cli.main import app
from domain.models import Join
from infra.broker import KINDS, BrokerError, EmbeddedBroker, free_port, port_in_use
from infra.kafka import create_topics
from tests.kafka_helpers import produce_actions, read_topic

pytestmark = pytest.mark.slow


def joins(count: int) -> list[Join]:
    return [Join(game_id=g % 7, player="A1", action_id=f"j{g}") for g in range(count)]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_broker_starts_answers_and_stops_leaving_no_process_or_scratch_dir(
    kind, tmp_path: Path
) -> None:
    with EmbeddedBroker(port=free_port(), kind=kind, log_path=tmp_path / "b.log") as broker:
        settings = fresh_settings(broker.bootstrap_servers, tmp_path / "data")
        create_topics(settings)
        produce_actions(settings, joins(20))
        assert len(read_topic(settings, settings.actions_topic, lambda m: len(m) >= 20)) == 20
        process = psutil.Process(broker.process.pid)
        scratch = broker.scratch
    assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    assert not port_in_use(broker.host, broker.port)
    assert scratch is None or not scratch.exists()


def test_noida_keeps_every_acknowledged_message_across_a_clean_stop(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "broker"
    with EmbeddedBroker(port=port, kind="noida", data_dir=data) as broker:
        settings = fresh_settings(broker.bootstrap_servers, tmp_path / "data")
        create_topics(settings)
        produce_actions(settings, joins(500))
    with EmbeddedBroker(port=port, kind="noida", data_dir=data) as broker:
        assert broker.keeps_log
        assert create_topics(settings)[settings.actions_topic] == "exists"
        assert len(read_topic(settings, settings.actions_topic, lambda m: len(m) >= 500)) == 500


def test_a_second_noida_on_the_same_data_dir_is_refused_with_the_reason(tmp_path: Path) -> None:
    data = tmp_path / "broker"
    with EmbeddedBroker(port=free_port(), kind="noida", data_dir=data):
        second = EmbeddedBroker(
            port=free_port(), kind="noida", data_dir=data, log_path=tmp_path / "second.log"
        )
        with pytest.raises(BrokerError, match="already running"):
            second.start()
        assert second.process is not None and second.process.poll() is not None


def test_an_unknown_embedded_broker_is_a_message_not_a_traceback() -> None:
    result = CliRunner().invoke(app, ["broker"], env={"MOBA_EMBEDDED_BROKER": "kafka"})
    assert result.exit_code == 2
    assert "MOBA_EMBEDDED_BROKER" in result.output and "'tansu' or 'noida'" in result.output
    assert "Traceback" not in result.output
