"""What the broker says about topics: partitions, leaders, first and end offsets, configs.

Admin requests only (no consumer, no group), for `moba topics describe` and the API's
/metrics; calls block, with a timeout.
"""

from typing import Any

from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, OffsetSpec

TIMEOUT_S = 10.0
# the configs an operator asks about first; a broker may not report them all
CONFIGS = (
    "cleanup.policy",
    "retention.ms",
    "retention.bytes",
    "max.message.bytes",
    "message.timestamp.type",
    "min.insync.replicas",
    "segment.bytes",
)


class TopicMissing(LookupError):
    """A named topic is not on the broker."""


def log_offsets(
    admin: AdminClient, topic: str, partitions: list[int], spec: OffsetSpec, timeout_s: float
) -> dict[int, int]:
    """Each partition's offset at `spec` (OffsetSpec.latest(): its log end; earliest(): its start)."""
    wanted = {TopicPartition(topic, p): spec for p in partitions}
    futures = admin.list_offsets(wanted, request_timeout=timeout_s)
    return {tp.partition: f.result().offset for tp, f in futures.items()}


def describe_topics(bootstrap_servers: str, names: list[str]) -> list[dict[str, Any]]:
    """Each topic in `names`: its partitions with leader, replicas, start and end, and its configs."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    metadata = admin.list_topics(timeout=TIMEOUT_S)
    missing = [name for name in names if name not in metadata.topics]
    if missing:
        raise TopicMissing(f"no topic {', '.join(map(repr, missing))} on {bootstrap_servers}")
    described = []
    for name in names:
        parts = sorted(metadata.topics[name].partitions.values(), key=lambda p: p.id)
        ids = [p.id for p in parts]
        starts = log_offsets(admin, name, ids, OffsetSpec.earliest(), TIMEOUT_S)
        ends = log_offsets(admin, name, ids, OffsetSpec.latest(), TIMEOUT_S)
        configs, error = _configs(admin, name)
        described.append(
            {
                "topic": name,
                "partitions": [
                    {
                        "partition": p.id,
                        "leader": p.leader,
                        "replicas": ",".join(map(str, p.replicas)),
                        "start": starts[p.id],
                        "end": ends[p.id],
                    }
                    for p in parts
                ],
                "configs": configs,
                "configs_error": error,
            }
        )
    return described


def _configs(admin: AdminClient, topic: str) -> tuple[dict[str, str] | None, str | None]:
    """The topic's main configs, or None and why (some embedded brokers do not answer)."""
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    try:
        entries = admin.describe_configs([resource], request_timeout=TIMEOUT_S)[resource].result()
    except KafkaException as err:
        return None, str(err.args[0].str() if err.args else err)
    return {
        k: entries[k].value for k in CONFIGS if k in entries and entries[k].value is not None
    }, None
