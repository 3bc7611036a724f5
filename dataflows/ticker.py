"""The dataflow's clock: a clock record on every partition of `actions`, every few seconds.

Time reaches a game through its partition's records (docs/domain.md, Time); a game
nobody acts in needs records that are not its own. Each dataflow process writes
`{"type": "tick"}` to every partition every `MOBA_TICK_INTERVAL_S`; the broker stamps
it like any action, so a replay reads the same time at the same place in the log.
Several processes tick the same partitions: the extra records change nothing.
"""

import logging
import threading
from typing import Any

from confluent_kafka import Producer

log = logging.getLogger(__name__)

TICK = b'{"type":"tick"}'
TICK_KEY = b"tick"


class Ticker:
    """A daemon thread writing a clock record to each partition every `interval_s` until stopped."""

    def __init__(self, config: dict[str, Any], topic: str, partitions: int, interval_s: float):
        self._config = config
        self._topic = topic
        self._partitions = partitions
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="moba-ticker", daemon=True)

    def start(self) -> "Ticker":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        producer = Producer(self._config)
        try:
            while not self._stop.wait(self._interval_s):
                for partition in range(self._partitions):
                    producer.produce(self._topic, TICK, key=TICK_KEY, partition=partition)
                producer.poll(0)
        except Exception:  # a tick lost is time delayed, never a wrong decision
            log.exception("the clock stopped: quiet games will not time out")
        finally:
            producer.flush(5)
