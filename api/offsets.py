"""What the API asks Kafka for itself: whether it answers, and how far each topic's log reaches.

One admin client per process, opened on first use and closed by the app's lifespan;
`/health/ready` and `/metrics` share it. Calls block (librdkafka), so callers run them
on a worker thread.
"""

import logging
import threading

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, OffsetSpec

from infra.settings import Settings
from infra.topics import log_offsets

TIMEOUT_S = 2.0  # a probe must answer well within a scraper's or a load balancer's timeout


class BrokerUnreachable(RuntimeError):
    """Kafka did not answer in time; the message says what the client saw."""


class Offsets:
    """Kafka as the API's health and metrics see it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._admin: AdminClient | None = None
        self._lock = threading.Lock()

    def reachable(self) -> int:
        """How many brokers answered a metadata request; raises BrokerUnreachable."""
        try:
            metadata = self._client().list_topics(timeout=TIMEOUT_S)
        except KafkaException as err:
            raise BrokerUnreachable(_text(err)) from None
        return len(metadata.brokers)

    def ends(self, topic: str) -> dict[int, int]:
        """The log end offset of each of `topic`'s partitions: how many messages it ever held."""
        partitions = list(range(self.settings.partitions))
        try:
            return log_offsets(self._client(), topic, partitions, OffsetSpec.latest(), TIMEOUT_S)
        except KafkaException as err:
            raise BrokerUnreachable(_text(err)) from None

    def close(self) -> None:
        self._admin = None  # an AdminClient has no close(); dropping it ends its threads

    def _client(self) -> AdminClient:
        with self._lock:
            if self._admin is None:
                quiet = logging.getLogger("moba.api.offsets")
                self._admin = AdminClient(
                    {"bootstrap.servers": self.settings.bootstrap_servers, "logger": quiet}
                )
            return self._admin


def _text(err: KafkaException) -> str:
    first = err.args[0] if err.args else err
    return str(getattr(first, "str", lambda: first)())
