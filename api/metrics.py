"""`/metrics` in Prometheus' text format: the game's throughput, the dataflow's lag, latency, sockets.

What is counted where (docs/operations.md):
- actions, states and dead letters: the end offsets of `actions`, `games` and
  `actions.dlq` per partition, read from Kafka at each scrape. They are counters of
  everything ever written, so `rate(moba_actions_total[1m])` is actions per second
  whoever wrote them (clients, bots, the gateway, the dataflow).
- consumer lag per partition: the log end of `actions` minus the dataflow's position,
  as its recovery store last recorded it (one snapshot interval behind at most).
- intent -> state latency: from the gateway handing a socket's intent to its producer
  to the state answering it reaching the gateway's sockets.
- gateway sockets open now.
- the dataflow's own figures: each dataflow process's `<data_dir>/metrics/*.prom`
  file (dataflows/metrics.py), while it is fresh.
"""

import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from api.offsets import BrokerUnreachable, Offsets
from infra.recovery import stored_offsets
from infra.settings import Settings

FRESH_S = 30.0  # a dataflow file not rewritten for this long is a dead process's
PENDING = 10_000  # intents remembered while waiting for their state; the oldest go first
LAST_ACTION = re.compile(r'"last":\{"action_id":"((?:[^"\\]|\\.)*)"')
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IntentLatency:
    """Intent -> state through the gateway: `sent(action_id)`, then `seen(state_json)` observes."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.histogram = Histogram(
            "moba_intent_to_state_seconds",
            "From the gateway producing a socket's intent to the state answering it reaching the gateway.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._sent: OrderedDict[str, float] = OrderedDict()

    def sent(self, action_id: str) -> None:
        self._sent[action_id] = time.monotonic()
        if len(self._sent) > PENDING:
            self._sent.popitem(last=False)

    def seen(self, state_json: str) -> None:
        """A state on its way to sockets: if it answers an intent sent here, how long it took."""
        if not self._sent:
            return
        found = LAST_ACTION.search(state_json)
        if found is None:
            return
        action_id = json.loads(f'"{found.group(1)}"')
        sent_at = self._sent.pop(action_id, None)
        if sent_at is not None:
            self.histogram.observe(time.monotonic() - sent_at)


class GameFigures(Collector):
    """The figures read at each scrape: topic ends, the dataflow's lag, sockets, dataflow files."""

    def __init__(self, settings: Settings, offsets: Offsets, sockets: Callable[[], int]) -> None:
        self.settings = settings
        self.offsets = offsets
        self.sockets = sockets

    def collect(self) -> Iterator[Metric]:
        s = self.settings
        up = GaugeMetricFamily("moba_kafka_up", "1 when Kafka answered this scrape's queries.")
        try:
            ends = {
                topic: self.offsets.ends(topic)
                for topic in (s.actions_topic, s.games_topic, s.dlq_topic)
            }
        except BrokerUnreachable:
            ends = None
        up.add_metric([], 0 if ends is None else 1)
        yield up
        if ends is not None:
            yield from _ends(
                ends[s.actions_topic], "moba_actions", "Actions written to the actions topic."
            )
            yield from _ends(
                ends[s.games_topic], "moba_states", "States the dataflow wrote to the games topic."
            )
            yield from _ends(
                ends[s.dlq_topic], "moba_dead_letters", "Messages dead-lettered to actions.dlq."
            )
            yield from self._lag(ends[s.actions_topic])
        sockets = GaugeMetricFamily("moba_gateway_sockets", "WebSockets open on the gateway now.")
        sockets.add_metric([], self.sockets())
        yield sockets
        yield from dataflow_figures(s.data_dir / "metrics")

    def _lag(self, ends: dict[int, int]) -> Iterator[Metric]:
        try:
            read = stored_offsets(self.settings.recovery_dir)
        except Exception:  # no store yet, or being replaced: no lag figure this scrape
            return
        lag = GaugeMetricFamily(
            "moba_consumer_lag",
            "Actions in the log the dataflow has not yet read, as of its last snapshot.",
            labels=["partition"],
        )
        for partition, end in sorted(ends.items()):
            lag.add_metric([str(partition)], max(0, end - read.get(partition, 0)))
        yield lag


def _ends(ends: dict[int, int], name: str, help_text: str) -> Iterator[Metric]:
    family = CounterMetricFamily(name, help_text, labels=["partition"])
    for partition, end in sorted(ends.items()):
        family.add_metric([str(partition)], end)
    yield family


def dataflow_figures(directory: Path, fresh_s: float = FRESH_S) -> Iterator[Metric]:
    """Every fresh dataflow file's families, merged by name (each process labels its own)."""
    merged: dict[str, Metric] = {}
    now = time.time()
    for path in sorted(directory.glob("*.prom")):
        try:
            if now - path.stat().st_mtime > fresh_s:
                continue
            text = path.read_text()
        except OSError:  # replaced or removed between the listing and the read
            continue
        for family in text_string_to_metric_families(text):
            if family.name in merged:
                merged[family.name].samples.extend(family.samples)
            else:
                merged[family.name] = family
    yield from merged.values()


class Metrics:
    """The API's registry: what it measures itself, and what it reads at each scrape."""

    def __init__(self, settings: Settings, offsets: Offsets, sockets: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self.latency = IntentLatency(self.registry)
        self.registry.register(GameFigures(settings, offsets, sockets))

    def text(self) -> bytes:
        return generate_latest(self.registry)


def add_metrics(app: FastAPI, metrics: Metrics) -> None:
    """Mount `GET /metrics`."""

    @app.get("/metrics", response_class=PlainTextResponse)
    def scrape() -> PlainTextResponse:
        """The figures in Prometheus' text format (docs/operations.md says what each one is)."""
        return PlainTextResponse(metrics.text(), media_type=CONTENT_TYPE_LATEST)
