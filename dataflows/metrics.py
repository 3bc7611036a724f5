"""The dataflow's own figures, written as a Prometheus text file that the API serves.

Each dataflow process keeps its counters here and rewrites `<data_dir>/metrics/
dataflow-<host>-<pid>.prom` every second (atomically: a reader never sees half a file). The
API's `/metrics` adds every such file that is fresh, so one scrape sees the API and
every dataflow process; the files also suit node_exporter's textfile collector. A file
rather than a port: the dataflow opens no socket, and `-i/-a` processes need no ports.
"""

import os
import socket
import threading
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, write_to_textfile

EVERY_S = 1.0

REGISTRY = CollectorRegistry()
# containers sharing one data volume may all be pid 1: the host name tells them apart
PROCESS = f"{socket.gethostname()}-{os.getpid()}"
ACTIONS_READ = Counter(
    "moba_dataflow_actions_read",
    "Messages read from the actions topic by this dataflow process.",
    ["process"],
    registry=REGISTRY,
).labels(PROCESS)
_WRITTEN = Counter(
    "moba_dataflow_messages_written",
    "Messages this dataflow process produced, by topic (states to games, dead letters to the DLQ).",
    ["process", "topic"],
    registry=REGISTRY,
)
FLUSH_SECONDS = Histogram(
    "moba_dataflow_epoch_flush_seconds",
    "Time to flush an epoch's output to the broker before the epoch commits (snapshot).",
    ["process"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
).labels(PROCESS)

_started = threading.Lock()
_publishing: list[Path] = []


def written(topic: str, count: int) -> None:
    """`count` messages produced to `topic`."""
    _WRITTEN.labels(PROCESS, topic).inc(count)


def publish(directory: Path) -> None:
    """Rewrite this process's file in `directory` every second, on a daemon thread (once)."""
    with _started:
        if _publishing:
            return
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"dataflow-{PROCESS}.prom"
        _publishing.append(path)
    threading.Thread(target=_write_forever, args=(path,), name="moba-metrics", daemon=True).start()


def _write_forever(path: Path) -> None:
    while True:
        write_to_textfile(str(path), REGISTRY)
        time.sleep(EVERY_S)  # the file's refresh period
