"""A game's whole life on the real broker and dataflow, with the pure replay of the log as the oracle.

Seats claimed concurrently have one winner; a claim survives kill -9; a quiet game is
abandoned by clock records alone; ended games leave the dataflow for the archive; and
every state the flow wrote is the replay of the game's log, with its records' times.
"""

import threading

import pytest
from confluent_kafka import Producer
from typer.testing import CliRunner

from api.store import GameStore
from bench.eviction import self_defeat
from cli.main import app as cli
from domain.models import Join, Move
from domain.rematch import rematch_id
from domain.seats import holder_of
from domain.wire import encode_action
from infra.kafka import game_key, partition_for, producer_config
from infra.replay import replay
from tests.kafka_helpers import TopicReader, produce_actions, states_by_game, until_committed

ME, YOU = "session-me-0001", "session-you-0002"


def newest_versions(states: list) -> list:
    """Each version once, in version order (a restarted flow re-sends some, byte for byte)."""
    return [s for _, s in sorted({s.version: s for s in states}.items())]


def assert_flow_is_the_replay(settings, game_id: int, written: list) -> None:
    """Every state the flow wrote is the replay of the game's log (`moba games audit`'s oracle)."""
    flow = newest_versions(written)
    replayed = [step.state for step in replay(settings, game_id).steps]
    assert flow == replayed[: len(flow)] and len(replayed) >= len(flow), game_id


def has(game_id: int, check):
    def until(messages) -> bool:
        return any(check(s) for s in states_by_game(messages).get(game_id, []))

    return until


def test_two_clients_claiming_one_seat_at_once_have_exactly_one_winner(
    settings, run_dataflow
) -> None:
    games = range(100, 140)
    run_dataflow()
    start = threading.Barrier(2)

    def claim(session: str) -> None:
        producer = Producer(producer_config(settings))
        for g in games:
            start.wait()
            value = encode_action(Join(game_id=g, player="A1", session=session))
            producer.produce(
                settings.actions_topic, value, game_key(g), partition_for(g, settings.partitions)
            )
            producer.flush(10)

    clients = [threading.Thread(target=claim, args=(s,)) for s in (ME, YOU)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    with TopicReader(settings, settings.games_topic) as reader:
        messages = reader.read_until(
            lambda ms: all(len(newest_versions(states_by_game(ms).get(g, []))) >= 2 for g in games)
        )
    written = states_by_game(messages)
    for g in games:
        first, second = newest_versions(written[g])[:2]
        assert first.last.accepted and second.last.reason == "seat_taken"
        assert (
            second.seats["A1"].holder == first.seats["A1"].holder in {holder_of(ME), holder_of(YOU)}
        )
        assert_flow_is_the_replay(settings, g, written[g])


@pytest.mark.slow
def test_a_seat_survives_kill_nine_of_the_dataflow(settings, run_dataflow) -> None:
    flow = run_dataflow()
    produce_actions(settings, [Join(game_id=7, player="B2", session=ME)])
    until_committed(settings, {7: 1})
    flow.kill()
    run_dataflow()
    produce_actions(
        settings,
        [
            Join(game_id=7, player="B2", session=YOU),
            Move(game_id=7, player="B2", direction="up", session=ME),
        ],
    )
    with TopicReader(settings, settings.games_topic) as reader:
        messages = reader.read_until(has(7, lambda s: s.version == 3))
    states = newest_versions(states_by_game(messages)[7])
    assert [s.last.reason for s in states] == [None, "seat_taken", None]
    assert states[-1].seats["B2"].holder == holder_of(ME)
    assert_flow_is_the_replay(settings, 7, states)


def test_quiet_games_end_by_the_clock_and_leave_for_the_archive(settings, run_dataflow) -> None:
    settings.idle_timeout_s, settings.evict_after_s, settings.tick_interval_s = 2.0, 1.0, 0.3
    run_dataflow()
    produce_actions(settings, [Join(game_id=5, player="A1", session=ME), *self_defeat(6, YOU)])
    with TopicReader(settings, settings.games_topic) as reader:
        messages = reader.read_until(has(5, lambda s: s.status == "abandoned"), 60)
    written = states_by_game(messages)
    abandoned = newest_versions(written[5])[-1]
    assert (abandoned.version, abandoned.last.type, abandoned.seats) == (2, "tick", {})
    finished = newest_versions(written[6])[-1]
    assert (finished.status, finished.winner, finished.rematch) == ("finished", "B", rematch_id(6))
    for g in (5, 6):
        assert_flow_is_the_replay(settings, g, written[g])

    def archived(store: GameStore) -> bool:
        return all(store.game(g).archived for g in (5, 6))

    with GameStore.of(settings) as store:
        until_archived(store, archived)
        assert store.game(5).state == abandoned and store.game(6).state == finished
        assert [s.state.game_id for s in store.games(archived=True)] == [5, 6]
        assert store.games() == []

    data_dir = ["--data-dir", str(settings.data_dir)]
    listed = CliRunner().invoke(cli, ["games", "list", "--all", *data_dir])
    assert listed.exit_code == 0 and "abandoned" in listed.output and "(archived)" in listed.output
    assert "No games" in CliRunner().invoke(cli, ["games", "list", *data_dir]).output
    shown = CliRunner().invoke(cli, ["games", "show", "5", *data_dir])
    assert "abandoned" in shown.output and "archived, ended" in shown.output
    seated = CliRunner().invoke(cli, ["games", "seats", "6", *data_dir])
    assert f"taken {holder_of(YOU)[:8]}" in seated.output and "2 of 10 seats taken" in seated.output

    produce_actions(settings, [Join(game_id=5, player="A1")])
    with TopicReader(settings, settings.dlq_topic) as dlq:
        letters = dlq.read_until(lambda ms: len(ms) >= 1)
    assert letters[0].headers["moba.reason"] == b"retired"


def until_archived(store: GameStore, archived, timeout_s: float = 60) -> None:
    """Poll the store to a deadline until `archived(store)` (the store is files: nothing to block on)."""
    import time

    from api.store import NoStore, UnknownGame

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            store.close()
            store.open()
            if archived(store):
                return
        except (NoStore, UnknownGame):
            pass
        assert time.monotonic() < deadline, "the games were not archived in time"
        time.sleep(0.1)
