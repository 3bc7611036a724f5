"""What an operator asks the API process: live, ready, /metrics; and event streams that end.

All on the real broker, the real dataflow and a real `moba api` process or uvicorn.
"""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from api.app import create_app
from domain.models import Join
from domain.wire import decode_state
from infra.broker import EmbeddedBroker, free_port
from infra.settings import Settings
from tests import test_query_live
from tests.gateway_process import GatewayProcess, frames_until, next_frame
from tests.kafka_helpers import produce_actions, produce_raw
from tests.test_cli_hostile import a_whole_game
from tests.test_query_live import events, poll_store, reached

pytestmark = pytest.mark.slow
served = test_query_live.served  # the API on uvicorn in a thread (a fixture)

Figures = dict[str, dict[tuple[tuple[str, str], ...], float]]


def scrape(base: str) -> Figures:
    """`/metrics` parsed: each sample's value by name and labels."""
    response = httpx.get(f"{base}/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    figures: Figures = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            figures.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return figures


def total(figures: Figures, name: str) -> float:
    return sum(figures.get(name, {}).values())


def scrape_until(base: str, done: Callable[[Figures], bool], timeout_s: float = 60) -> Figures:
    """Scrape until `done` holds; fails with the last scrape at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        figures = scrape(base)
        if done(figures):
            return figures
        if time.monotonic() > deadline:
            raise AssertionError(f"metrics never got there: {figures}")
        time.sleep(0.2)  # between scrapes, not instead of one


def test_the_stream_of_a_finished_game_ends_with_an_end_event_and_closes(
    settings: Settings, run_dataflow: Callable[..., object], served: str
) -> None:
    game = a_whole_game(3)
    produce_actions(settings, game)
    run_dataflow(workers=1)
    final = poll_store(settings, lambda snaps: 3 in snaps and snaps[3].state.status == "finished")

    with httpx.stream("GET", f"{served}/games/3/events", timeout=30) as response:
        sent = list(events(response.iter_lines()))  # returns only because the server closed

    assert [e["event"] for e in sent] == ["state", "end"]
    assert decode_state(sent[0]["data"]) == final[3].state
    assert sent[1]["id"] == sent[0]["id"]
    assert f'"winner": "{final[3].state.winner}"' in sent[1]["data"]


def test_a_stream_open_when_its_game_ends_gets_the_last_state_then_the_end(
    settings: Settings, run_dataflow: Callable[..., object], served: str
) -> None:
    *before, last = a_whole_game(4)
    produce_actions(settings, before)
    run_dataflow(workers=1)
    poll_store(settings, reached({4: len(before)}))

    with httpx.stream("GET", f"{served}/games/4/events", timeout=30) as response:
        stream = events(response.iter_lines())
        assert decode_state(next(stream)["data"]).status == "running"
        produce_actions(settings, [last])
        rest = list(stream)

    assert [e["event"] for e in rest] == ["state", "end"]
    assert decode_state(rest[0]["data"]).status == "finished"


def test_ready_names_the_store_until_the_dataflow_has_made_one(
    settings: Settings, run_dataflow: Callable[..., object]
) -> None:
    with TestClient(create_app(settings)) as client:
        live = client.get("/health/live")
        before = client.get("/health/ready")
        run_dataflow(workers=1)
        poll_store(settings, lambda snaps: (settings.recovery_dir / "part-0.sqlite3").exists())
        deadline = time.monotonic() + 30
        while (after := client.get("/health/ready")).status_code != 200:
            assert time.monotonic() < deadline, after.json()
            time.sleep(0.1)  # between polls

    assert live.status_code == 200 and live.json() == {"status": "live"}
    assert before.status_code == 503
    body = before.json()
    assert body["ready"] is False
    assert (
        body["checks"]["store"]["ok"] is False
        and "no recovery store" in body["checks"]["store"]["detail"]
    )
    assert body["checks"]["kafka"]["ok"] is True
    assert after.json()["checks"]["store"]["detail"].startswith("readable; resume epoch")


def test_ready_names_kafka_when_no_broker_answers(
    settings: Settings, run_dataflow: Callable[..., object]
) -> None:
    produce_actions(settings, [Join(game_id=1, player="A1")])
    run_dataflow(workers=1)
    poll_store(settings, reached({1: 1}))
    nowhere = settings.model_copy(update={"bootstrap_servers": f"127.0.0.1:{free_port()}"})

    with TestClient(create_app(nowhere)) as client:
        started = time.monotonic()
        response = client.get("/health/ready")
        took_s = time.monotonic() - started

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["store"]["ok"] is True
    assert checks["kafka"]["ok"] is False and nowhere.bootstrap_servers in checks["kafka"]["detail"]
    assert took_s < 10  # a probe answers within a load balancer's patience


def test_metrics_count_the_log_the_lag_the_sockets_and_the_latency(
    broker: EmbeddedBroker,
    settings: Settings,
    run_dataflow: Callable[..., object],
    tmp_path: Path,
) -> None:
    for g in range(6):  # a batch each: Tansu's end offset is its last batch's first offset + 1
        produce_actions(settings, [Join(game_id=g, player="A1")])
    produce_raw(settings, [(0, b"not json")])
    produce_raw(settings, [(1, b"{}")])
    gateway = GatewayProcess(settings, tmp_path / "api.log").start()
    http = f"http://127.0.0.1:{gateway.settings.api_port}"
    try:
        before = scrape(http)
        assert total(before, "moba_actions_total") == 8
        assert total(before, "moba_states_total") == 0
        assert total(before, "moba_kafka_up") == 1

        run_dataflow(workers=1)
        after = scrape_until(  # the dataflow's own figures count records, whatever the broker
            http,
            lambda f: (
                total(f, "moba_dataflow_messages_written_total") == 8
                and total(f, "moba_dataflow_actions_read_total") >= 8  # and its clock records
                and total(f, "moba_consumer_lag") == 0
            ),
        )
        assert len(after["moba_consumer_lag"]) == settings.partitions
        assert total(after, "moba_gateway_sockets") == 0
        states, dead = total(after, "moba_states_total"), total(after, "moba_dead_letters_total")
        if broker.kind.name == "tansu":  # its end offset is a batch's first offset + 1
            assert 4 <= states <= 6 and dead == 2
        else:
            assert (states, dead) == (6, 2)

        async def play() -> Figures:
            async with connect(f"{gateway.base}/games/2/play?player=A1") as ws:
                await next_frame(ws)
                await ws.send('{"type": "move", "direction": "down", "action_id": "timed"}')
                await frames_until(ws, lambda frame: frame.get("version") == 2)
                return await asyncio.to_thread(scrape, http)

        during = asyncio.run(play())
    finally:
        gateway.stop()

    assert total(during, "moba_gateway_sockets") == 1
    assert total(during, "moba_intent_to_state_seconds_count") == 1
    assert 0 < total(during, "moba_intent_to_state_seconds_sum") < 10
