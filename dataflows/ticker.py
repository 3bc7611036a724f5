"""The dataflow's clock: a clock record on every partition of `actions`, every few seconds.

Time reaches a game through its partition's records (docs/domain.md, Time); a game
nobody acts in needs records that are not its own. Each dataflow process writes
`{"type": "tick"}` to every partition every `MOBA_TICK_INTERVAL_S`; the broker stamps
it like any action, so a replay reads the same time at the same place in the log.
Several processes tick the same partitions: the extra records change nothing.
"""

import logging
import threading
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message

from infra.producer import RenewingProducer

log = logging.getLogger(__name__)

TICK = b'{"type":"tick"}'
TICK_KEY = b"tick"


class Ticker:
    """A daemon thread writing a clock record to each partition every `interval_s`, for good.

    Its producer is the renewing one every writer of `actions` uses: a producer fenced
    after a broker freeze is replaced, so the clock outlives the freeze. A tick lost is
    time delayed until the next one, never a wrong decision.
    """

    def __init__(self, config: dict[str, Any], topic: str, partitions: int, interval_s: float):
        self._config = config
        self._topic = topic
        self._partitions = partitions
        self._interval_s = interval_s
        self._thread = threading.Thread(target=self._run, name="moba-ticker", daemon=True)

    def start(self) -> "Ticker":
        self._thread.start()
        return self

    def _run(self) -> None:
        producer = RenewingProducer(self._config, log)
        due = time.monotonic()
        while True:
            due += self._interval_s
            while (left := due - time.monotonic()) > 0:
                producer.poll(left)  # serves delivery reports, and replaces a fenced producer
            for partition in range(self._partitions):
                try:
                    producer.produce(self._topic, TICK, TICK_KEY, partition, _delivered)
                except (BufferError, KafkaException) as err:
                    log.debug("a clock record was not queued: %s", err)


def _delivered(err: KafkaError | None, _message: Message) -> None:
    if err is not None:  # the broker is away: its own errors are logged by the producer
        log.debug("a clock record was not delivered: %s", err)
