"""How fast the broker serves a game's newest state, measured every few seconds while `moba up` runs.

The embedded brokers age: Tansu lists every stored batch of a partition on each fetch,
so its reads slow as games are played (seconds after a few minutes of real load); noida
follows the machine's load, and its log fills memory. The probe reads the newest message of one
`games` partition at a time, round-robin (what every player's client does all the time),
and writes nothing, so it leaves no trace in any topic. When each of the last `window`
reads took longer than `slow_ms`, the broker has degraded for a while.
"""

import logging
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaException, TopicPartition

from infra.children import hold_stopping_signals
from infra.kafka import consumer_config
from infra.settings import Settings

EVERY_S = 5.0  # one read every 5 s
WINDOW = 6  # "for a while": 6 reads in a row, 30 s or more
SLOW_MS = 1000.0  # a healthy read takes milliseconds
TIMEOUT_S = 10.0  # a read not answered by then counts as this long


def degraded(reads_ms: list[float], window: int = WINDOW, slow_ms: float = SLOW_MS) -> bool:
    """Whether each of the last `window` reads took longer than `slow_ms`."""
    last = reads_ms[-window:]
    return len(last) == window and min(last) > slow_ms


class BrokerProbe:
    """A thread timing tail reads of `games`; `on_degraded(text)` is called once, from that thread."""

    def __init__(
        self,
        settings: Settings,
        on_degraded: Callable[[str], None],
        advice: str,
        every_s: float = EVERY_S,
        window: int = WINDOW,
        slow_ms: float = SLOW_MS,
    ) -> None:
        self.settings = settings
        self.on_degraded = on_degraded
        self.advice = advice
        self.every_s = every_s
        self.window = window
        self.slow_ms = slow_ms
        self.reads_ms: deque[float] = deque(maxlen=max(window, 60))
        self.warned = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="moba-broker-probe", daemon=True)
        self._log = logging.getLogger("moba.probe")

    def start(self) -> "BrokerProbe":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(TIMEOUT_S + 5)

    def _run(self) -> None:
        hold_stopping_signals()  # Ctrl-C is the main thread's to handle
        quiet = logging.getLogger("moba.probe.kafka")  # an absent broker is the supervisor's news
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
        consumer = Consumer(consumer_config(self.settings, logger=quiet))
        try:
            turn = 0
            while not self._stop.wait(self.every_s):
                turn += 1
                took = self._read_newest(consumer, turn % self.settings.partitions)
                if took is None:
                    continue
                self.reads_ms.append(took)
                if not self.warned and degraded(list(self.reads_ms), self.window, self.slow_ms):
                    self.warned = True
                    self.on_degraded(self._warning())
        except Exception:  # the probe is advice: it must never take `moba up` down
            self._log.exception("the broker probe stopped")
        finally:
            consumer.close()

    def _read_newest(self, consumer: Consumer, partition: int) -> float | None:
        """Milliseconds to read the newest message of `games[partition]`; None if it has none."""
        where = TopicPartition(self.settings.games_topic, partition)
        try:
            _, high = consumer.get_watermark_offsets(where, timeout=TIMEOUT_S, cached=False)
        except KafkaException:
            return None  # unreachable or frozen: not a slow read, an outage
        if high <= 0:
            return None
        started = time.monotonic()
        consumer.assign([TopicPartition(self.settings.games_topic, partition, high - 1)])
        try:
            while time.monotonic() - started < TIMEOUT_S and not self._stop.is_set():
                message = consumer.poll(0.1)
                if message is not None and message.error() is None:
                    return (time.monotonic() - started) * 1000
            return TIMEOUT_S * 1000
        finally:
            consumer.unassign()

    def _warning(self) -> str:
        last = list(self.reads_ms)[-self.window :]
        return (
            f"the embedded broker has slowed down: each of its last {self.window} reads of a "
            f"game's newest state took over {_seconds(self.slow_ms)} (median "
            f"{_seconds(statistics.median(last))}, slowest {_seconds(max(last))}), where a "
            f"healthy broker takes milliseconds; players feel it as lag. {self.advice}"
        )


def _seconds(ms: float) -> str:
    if ms >= TIMEOUT_S * 1000:
        return f"{TIMEOUT_S:g} s or more"
    return f"{ms / 1000:.1f} s" if ms >= 100 else f"{ms:.0f} ms"
