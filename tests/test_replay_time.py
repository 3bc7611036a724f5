"""Decisions made by time replay the same: a quiet game abandoned by clock records, then retired.

Short timeouts (idle 2 s, forgotten 1 s after it ended, a clock record every 0.3 s) on the
real dataflow; the replay reads the same clock records with the same timestamps.
"""

import time

import pytest
from typer.testing import CliRunner

from api.store import GameStore, NoStore, UnknownGame
from cli.main import app as cli
from domain.models import Join, Move
from infra.audit import audit
from infra.replay import replay
from tests.kafka_helpers import TopicReader, produce_actions

pytestmark = pytest.mark.slow

SESSION = "session-replay-01"


def test_a_game_abandoned_by_the_clock_replays_to_the_same_states(settings, run_dataflow) -> None:
    settings.idle_timeout_s, settings.evict_after_s, settings.tick_interval_s = 2.0, 1.0, 0.3
    run_dataflow()
    produce_actions(
        settings,
        [
            Join(game_id=5, player="A1", session=SESSION),
            Move(game_id=5, player="A1", direction="right", session=SESSION),
        ],
    )
    with TopicReader(settings, settings.games_topic) as games:
        games.read_until(lambda ms: any(b'"status":"abandoned"' in m.value for m in ms), 60)
    until_forgotten(settings, 5)
    produce_actions(settings, [Join(game_id=5, player="B1")])  # too late: dead-lettered
    with TopicReader(settings, settings.dlq_topic) as dlq:
        dlq.read_until(lambda ms: any(m.headers.get("moba.reason") == b"retired" for m in ms))

    report, rebuilt = audit(settings, 5)

    assert report.ok, report.summary()
    final = rebuilt.state(rebuilt.latest)
    assert (final.status, final.last.type, final.seats) == ("abandoned", "tick", {})
    assert rebuilt.state(2).seats["A1"].holder  # held before time freed it
    assert replay(settings, 5).latest == rebuilt.latest == report.matched == 3
    shown = CliRunner().invoke(
        cli, ["games", "show", "5", "--at", "3", "--json"], env=settings.as_env()
    )
    assert shown.exit_code == 0 and '"status":"abandoned"' in shown.output


def until_forgotten(settings, game_id: int, timeout_s: float = 60) -> None:
    """Poll the store to a deadline until the dataflow has archived the game (forgotten it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with GameStore.of(settings) as store:
                if store.game(game_id).archived:
                    return
        except (NoStore, UnknownGame):
            pass
        assert time.monotonic() < deadline, f"game {game_id} never archived"
        time.sleep(0.1)  # the store is files: nothing to block on
