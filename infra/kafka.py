"""Kafka plumbing every adapter shares: partition routing, client configs, topic creation.

The only module besides the adapters' own Kafka edges that imports confluent_kafka.
Configs are plain dicts so callers can add to them; values are tuned for the
embedded Tansu broker and are harmless on Apache Kafka.
"""

from typing import Any

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from infra.settings import Settings


def partition_for(game_id: int, partitions: int) -> int:
    """The talk's routing: game g lives on partition g mod P of both `actions` and `games`."""
    return game_id % partitions


def game_key(game_id: int) -> bytes:
    """The message key of every action and state of game g: str(g), for log compaction and tooling."""
    return str(game_id).encode()


def produce_patiently(
    producer: Producer,
    topic: str,
    value: bytes | None,
    key: bytes | None,
    partition: int,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Queue one message; while librdkafka's local queue is full, let it send some and retry.

    A full queue means "later", not "never": dropping the message or raising would lose
    an action or a state, so a producer that outruns the broker waits instead.
    """
    while True:
        try:
            producer.produce(topic, value, key, partition=partition, headers=headers)
            return
        except BufferError:
            producer.poll(0.01)


def producer_config(settings: Settings, **extra: Any) -> dict[str, Any]:
    """An idempotent producer: retries never reorder or duplicate a game's messages.

    Uncompressed: zstd (or lz4) halved the broker's CPU per action on a backlog, but
    under a steady trickle of actions, small batches each, it doubled the players'
    latency (docs/lab/2026-12-03-producer-compression.md).
    """
    return {
        "bootstrap.servers": settings.bootstrap_servers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 1,
        "compression.type": "none",
        **extra,
    }


def consumer_config(
    settings: Settings, group_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A consumer tuned for low latency on Tansu, which answers a waiting fetch only at fetch.wait.max.ms.

    Without a group id the consumer is meant for `assign()` (one partition, no group
    protocol, nothing committed).
    """
    config: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "fetch.wait.max.ms": settings.fetch_wait_max_ms,
        "session.timeout.ms": 6000,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
        # noida answers a fetch with everything asked for, whatever fetch.max.bytes says;
        # past librdkafka's default 100 MB limit on a response, a read from the start of a
        # long log fails and retries forever. Its upper bound, so it reads instead.
        "receive.message.max.bytes": 2_147_483_647,
        **extra,
    }
    if group_id is None:
        config["group.id"] = "moba-unused"  # librdkafka insists on one; assign() never joins it
        config["enable.auto.commit"] = False
    else:
        config["group.id"] = group_id
    return config


def topic_partitions(settings: Settings) -> dict[str, int]:
    """Every topic the game needs, with its partition count."""
    return {
        settings.actions_topic: settings.partitions,
        settings.games_topic: settings.partitions,
        settings.dlq_topic: settings.partitions,
    }


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Topic settings beyond the broker's defaults, given when a topic is created.

    `actions` is the event log every game is rebuilt from (a new recovery store reads it
    from offset 0), so it is never trimmed. `games` and `actions.dlq` keep the broker's
    retention: `games` can be rebuilt, dead letters are for a person to look at.
    The broker stamps each action with its own clock (LogAppendTime): the rules' only
    time, which no client can set and every replay reads the same (docs/domain.md).
    """
    return {
        settings.actions_topic: {"retention.ms": "-1", "message.timestamp.type": "LogAppendTime"}
    }


def create_topics(settings: Settings, timeout_s: float = 30.0) -> dict[str, str]:
    """Create the game's topics if missing; returns topic -> "created" | "exists".

    Idempotent. An existing topic with a different partition count is an error:
    game g would be looked for on the wrong partition.
    """
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    wanted = topic_partitions(settings)
    configs = topic_configs(settings)
    existing = admin.list_topics(timeout=timeout_s).topics
    result: dict[str, str] = {}
    missing = []
    for name, count in wanted.items():
        if name in existing:
            have = len(existing[name].partitions)
            if have != count:
                raise TopicMismatch(f"topic {name!r} has {have} partitions, settings say {count}")
            result[name] = "exists"
        else:
            missing.append(
                NewTopic(
                    name,
                    num_partitions=count,
                    replication_factor=settings.replication_factor,
                    config=configs.get(name, {}),
                )
            )
    if missing:
        for name, future in admin.create_topics(missing, operation_timeout=timeout_s).items():
            try:
                future.result(timeout=timeout_s)
                result[name] = "created"
            except KafkaException as err:
                if err.args[0].code() != err.args[0].TOPIC_ALREADY_EXISTS:
                    raise
                result[name] = "exists"
    return result


class TopicMismatch(RuntimeError):
    """A topic exists with a partition count that disagrees with the settings."""
