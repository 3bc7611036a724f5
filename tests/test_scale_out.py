"""The dataflow as a cluster of processes (`-i`/`-a`) on the real broker, rescaled from one store.

What docker-compose.yml runs, on this machine: two `python -m bytewax.run dataflows.games`
processes with distinct `-i` and one `-a` list, over a recovery store initialised once
with several partitions. The pure fold is the oracle; then the cluster stops and a
different number of processes resumes from the same store with more actions. Last,
the partitioner table of docs/scaling.md is checked against librdkafka itself.
"""

import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from bench.workload import by_game, key_presses
from dataflows import launch
from dataflows.process import Process
from domain.models import Action
from domain.rules import fold
from infra.settings import Settings
from tests.kafka_helpers import (
    Message,
    Reached,
    produce_actions,
    read_topic,
    states_by_game,
    until_committed,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

# As docker-compose.yml's recovery-init: one per worker of the largest cluster.
RECOVERY_PARTITIONS = 4


def init_recovery_store(settings: Settings) -> None:
    """`python -m bytewax.recovery DIR N`, as the compose file's one-shot service does."""
    settings.recovery_dir.mkdir(parents=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bytewax.recovery",
            str(settings.recovery_dir),
            str(RECOVERY_PARTITIONS),
        ],
        check=True,
        capture_output=True,
    )


def stop_all(flows: list[Process]) -> None:
    """Stop every process of a cluster (as `docker compose stop` does, with SIGINT)."""
    for flow in flows:
        flow.stop()


def assert_every_state_is_the_fold(messages: list[Message], games: dict[int, list[Action]]) -> None:
    """Each state read equals the fold of its game's first `version` actions, the last one all.

    States re-emitted while a resumed cluster replays since the last snapshot carry the
    version they had, so duplicates are allowed only if they are identical.
    """
    read = states_by_game(messages)
    assert set(read) == set(games)
    for game, actions in games.items():
        by_version = {}
        for state in read[game]:
            assert by_version.setdefault(state.version, state) == state, (game, state.version)
        assert sorted(by_version) == list(range(1, len(actions) + 1)), game
        for version, state in by_version.items():
            assert state == fold(game, actions[:version]), (game, version)


def test_two_processes_equal_the_fold_and_one_process_resumes_their_store(
    settings: Settings, run_dataflow
) -> None:
    init_recovery_store(settings)
    first = list(key_presses(range(300, 340), 40 * 15, seed=1))
    produce_actions(settings, first)
    games = by_game(first)

    two = [run_dataflow(args=command) for command in launch.cluster(processes=2, workers=2)]
    messages = read_topic(
        settings, settings.games_topic, Reached({g: len(a) for g, a in games.items()})
    )
    for flow in two:
        flow.raise_if_exited()
    assert all(m.partition == int(m.key) % settings.partitions for m in messages)
    assert_every_state_is_the_fold(messages, games)
    until_committed(settings, {g: len(a) for g, a in games.items()})
    stop_all(two)
    assert len(list(settings.recovery_dir.glob("part-*.sqlite3"))) == RECOVERY_PARTITIONS

    # More actions for the same games and for new ones; one process with three workers
    # now owns every game's state, which bytewax routes to it from the two's snapshots.
    second = list(key_presses(range(320, 360), 40 * 10, seed=2))
    produce_actions(settings, second)
    games = by_game(first + second)
    one = run_dataflow(workers=3)
    messages = read_topic(
        settings, settings.games_topic, Reached({g: len(a) for g, a in games.items()})
    )
    one.raise_if_exited()
    assert_every_state_is_the_fold(messages, games)
    replayed = len(messages) - len(first) - len(second)
    assert replayed < len(first) // 2, f"{replayed} states re-emitted: resumed from the start?"
    stop_all([one])


def test_one_process_store_resumes_as_three_processes(settings: Settings, run_dataflow) -> None:
    init_recovery_store(settings)
    first = list(key_presses(range(400, 420), 20 * 10, seed=3))
    produce_actions(settings, first)
    games = by_game(first)

    one = run_dataflow(workers=1)
    read_topic(settings, settings.games_topic, Reached({g: len(a) for g, a in games.items()}))
    stop_all([one])

    second = list(key_presses(range(410, 430), 20 * 10, seed=4))
    produce_actions(settings, second)
    games = by_game(first + second)
    three = [run_dataflow(args=command) for command in launch.cluster(processes=3, workers=1)]
    messages = read_topic(
        settings, settings.games_topic, Reached({g: len(a) for g, a in games.items()})
    )
    for flow in three:
        flow.raise_if_exited()
    assert_every_state_is_the_fold(messages, games)
    stop_all(three)


def test_the_partitioner_table_in_the_scaling_docs_is_what_librdkafka_does(broker) -> None:
    """docs/scaling.md: for key str(g) on 10 partitions, librdkafka's default (CRC32) and
    its Java-compatible murmur2 route as the table says, and neither is g mod 10."""
    rows = re.findall(
        r"^\| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", (ROOT / "docs/scaling.md").read_text(), re.M
    )
    table = {int(g): tuple(map(int, parts)) for g, *parts in rows}
    assert len(table) >= 3
    topic = f"partitioners-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    admin.create_topics([NewTopic(topic, num_partitions=10)])[topic].result(30)
    routed = {}
    for partitioner in ("consistent_random", "murmur2_random"):
        producer = Producer(
            {"bootstrap.servers": broker.bootstrap_servers, "partitioner": partitioner}
        )
        landed: dict[int, int] = {}
        for game in table:
            producer.produce(
                topic,
                b"{}",
                str(game).encode(),
                on_delivery=lambda err, msg, landed=landed: landed.update(
                    {int(msg.key()): msg.partition()}
                ),
            )
        assert producer.flush(30) == 0
        routed[partitioner] = landed
    for game, (mod, crc32, murmur2) in table.items():
        assert mod == game % 10
        assert routed["consistent_random"][game] == crc32, game
        assert routed["murmur2_random"][game] == murmur2, game
