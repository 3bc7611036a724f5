"""The running backend as one object: broker, topics, dataflow, and any processes added on top.

`moba up` uses it as is; `moba demo` and the API add their processes with `add()`.
Everything starts in order and stops in reverse order (last added first, broker last).

Which broker: if a Kafka broker answers at MOBA_BOOTSTRAP_SERVERS (default
localhost:9092), it is used, whoever started it. If nothing answers and that is one
local address (localhost or 127.0.0.1), the embedded broker is started there. If it
names another host, that is an error: we never swap in a local broker for a remote one
that was asked for. MOBA_EMBEDDED_BROKER says which embedded broker (docs/brokers.md).

A recovery store is resumed only if the broker's log still holds what the store says
it read: an embedded broker that keeps its log in `<data_dir>/broker` (noida) normally
does, so games go on after a restart; an in-memory one (tansu) never does. A store the
log does not cover is moved aside (renamed, never deleted) and the dataflow starts clean.

One stack per data directory (infra/lock.py). Everything it starts is tied to it: the
kernel stops the broker and the children if the stack dies without stopping them
(infra/children.py). A dataflow or API that exits is restarted with backoff (the
dataflow resumes from recovery) until it crashes too often, and the embedded broker's
reads are timed so that a broker that has slowed down is reported (infra/probe.py).
"""

import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from confluent_kafka.admin import AdminClient

from dataflows import launch
from dataflows.process import Process
from infra.broker import EmbeddedBroker, port_in_use
from infra.kafka import consumer_config, create_topics
from infra.lock import DataDirBusy, DataDirLock
from infra.probe import BrokerProbe
from infra.recovery import (
    NotARecoveryStore,
    check_store,
    missing_offsets,
    move_aside,
    prepare_recovery_dir,
    remove_older_aside,
    stored_offsets,
)
from infra.settings import Settings

LOCAL_HOSTS = ("", "localhost", "127.0.0.1")
RESTARTED = ("dataflow", "api")  # children restarted when they exit; others end the wait
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)  # before the 1st, 2nd, ... restart in a row
CRASHES = 5  # this many exits within CRASH_WINDOW_S: give up
CRASH_WINDOW_S = 60.0


class StackError(RuntimeError):
    """Something the person running the stack must fix; the message says what."""


class Stack:
    """Broker + topics + dataflow (with recovery), started by `start()` and stopped by `stop()`."""

    def __init__(
        self,
        settings: Settings,
        workers: int = 1,
        recovery: bool = True,
        say: Callable[[str], None] = print,
    ) -> None:
        self.settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})
        self.workers = workers
        self.recovery = recovery
        self.say = say
        self.broker: EmbeddedBroker | None = None
        self.children: list[Process] = []
        self.log_dir = self.settings.data_dir / "logs"
        self.lock = DataDirLock(self.settings.data_dir)
        self.probe: BrokerProbe | None = None
        self.exits: dict[str, list[float]] = {}  # child name -> when it exited (monotonic)
        self._recipes: dict[str, tuple[list[str], dict[str, str]]] = {}

    def start(self) -> "Stack":
        """Lock, broker, topics, recovery store, dataflow; stops whatever started if a step fails."""
        try:
            self.lock.acquire()
        except DataDirBusy as err:
            raise StackError(str(err)) from None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_broker()
            for topic, outcome in create_topics(self.settings).items():
                self.say(f"topic {topic}: {outcome}")
            if self.recovery:
                self._check_recovery_store()
            self.add(
                "dataflow",
                launch.command(self.workers),
                launch.environment(self.settings, recovery=self.recovery),
            )
        except BaseException:
            self.stop()
            raise
        return self

    def add(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
        """Start another process (bots, client, API) in the stack; it logs to logs/<name>.log."""
        env = env if env is not None else {**os.environ, **self.settings.as_env()}
        child = Process.start(name, argv, self.log_dir / f"{name}.log", env=env, tied=True)
        self.children.append(child)
        self._recipes[name] = (argv, env)
        self.say(f"{name}: pid {child.pid}, log {child.log_path}")
        return child

    def add_api(self) -> Process:
        """The query API (`moba api`) on the settings' host and port, reading this stack's store."""
        host, port = self.settings.api_host, self.settings.api_port
        if port_in_use(host, port):
            raise StackError(f"the API port {host}:{port} is in use; set MOBA_API_PORT")
        child = self.add("api", [sys.executable, "-m", "cli", "api"])
        self.say(
            f"play in a browser: http://{host}:{port}/ (API at /games, OpenAPI at /docs, "
            "health at /health/ready, metrics at /metrics)"
        )
        return child

    def dead(self) -> list[Process]:
        """Children that have exited (a healthy stack has none)."""
        return [child for child in self.children if not child.alive()]

    def wait(self, poll_s: float = 0.5) -> Process:
        """Block while the stack runs (Ctrl-C raises KeyboardInterrupt here).

        A dataflow or API that exits is restarted after a backoff, and said so; one that
        exits `CRASHES` times within `CRASH_WINDOW_S` raises StackError. Returns any other
        child that exits; raises StackError if the embedded broker exits.
        """
        while True:
            for child in self.dead():
                if child.name not in RESTARTED:
                    return child
                self._restart(child)
            broker = self.broker.process if self.broker is not None else None
            if broker is not None and broker.poll() is not None:
                raise StackError(f"the embedded broker exited ({broker.returncode})")
            time.sleep(poll_s)  # the supervisor's period, not a wait for something to happen

    def _restart(self, child: Process) -> None:
        """Start `child` again after a backoff that doubles with each exit in a row."""
        now = time.monotonic()
        exits = [t for t in self.exits.get(child.name, []) if now - t < CRASH_WINDOW_S] + [now]
        self.exits[child.name] = exits
        code = child.process.returncode
        self.say(f"{child.name} exited with code {code}; its log ends:\n{child.log_tail(10)}")
        if len(exits) >= CRASHES:
            raise StackError(
                f"the {child.name} exited {len(exits)} times within {CRASH_WINDOW_S:.0f} s; "
                f"giving up (its log: {child.log_path})"
            )
        backoff = BACKOFF_S[min(len(exits), len(BACKOFF_S)) - 1]
        resume = " from recovery" if child.name == "dataflow" and self.recovery else ""
        self.say(
            f"restarting the {child.name}{resume} in {backoff:.0f} s "
            f"(exit {len(exits)} of {CRASHES} allowed within {CRASH_WINDOW_S:.0f} s)"
        )
        time.sleep(backoff)  # the backoff itself; Ctrl-C still stops the stack here
        self.children.remove(child)
        argv, env = self._recipes[child.name]
        self.add(child.name, argv, env)

    def stop(self) -> None:
        """Stop every child, last started first, then the broker if we started it.

        All children are interrupted before any is waited for: they shut down side by
        side (each takes a second or so), and the broker outlives them all.
        """
        if self.probe is not None:
            self.probe.stop()
            self.probe = None
        children, self.children = self.children[::-1], []
        for child in children:
            child.signal_group(signal.SIGINT)  # as Ctrl-C would
        for child in children:
            child.wait_or_kill()
        if self.broker is not None:
            self.broker.stop()
            kept = "its log is kept" if self.broker.keeps_log else "its topics are gone"
            self.say(f"embedded broker stopped ({kept})")
            self.broker = None
        self.lock.release()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _start_broker(self) -> None:
        servers = self.settings.bootstrap_servers
        host, _, port = self.settings.bootstrap_list[0].rpartition(":")
        local = len(self.settings.bootstrap_list) == 1 and host in LOCAL_HOSTS and port.isdigit()
        host = "127.0.0.1" if host in ("", "localhost") else host
        # a closed local port needs no metadata probe (which would wait for its timeout)
        if not (local and not port_in_use(host, int(port))) and broker_answers(servers):
            self.say(f"broker: using the one at {servers}")
            return
        if not local:
            raise StackError(f"no Kafka broker answers at MOBA_BOOTSTRAP_SERVERS={servers}")
        if port_in_use(host, int(port)):
            raise StackError(f"{host}:{port} is in use by something that is not a Kafka broker")
        # known to the stack before it is spawned, so a stop at any moment stops it too
        self.broker = EmbeddedBroker(
            host,
            int(port),
            log_path=self.log_dir / "broker.log",
            kind=self.settings.embedded_broker,
            data_dir=self.settings.broker_dir,
            tied=True,
        )
        self.broker.start()
        self.say(
            f"broker: embedded at {self.broker.bootstrap_servers} ({self.broker.describe()}, "
            f"pid {self.broker.pid})"
        )
        self.probe = BrokerProbe(self.settings, self.say, advice=self._advice()).start()

    def _advice(self) -> str:
        """What to do about a slow embedded broker, for the probe's warning."""
        assert self.broker is not None
        restart = (
            "Restart moba up (the games are kept in its log)"
            if self.broker.keeps_log
            else "Restart moba up (this in-memory broker forgets every game when it stops)"
        )
        return f"{restart}, or move to Apache Kafka: docs/deployment.md."

    def _check_recovery_store(self) -> None:
        directory = self.settings.recovery_dir
        try:
            check_store(directory)
        except NotARecoveryStore as err:
            raise StackError(f"{err}; move {directory} away or set another MOBA_DATA_DIR") from None
        stale = self._stale_reason(directory)
        if stale is not None:
            aside = move_aside(directory)
            self.say(f"recovery store {directory} is stale ({stale}); moved to {aside}")
            for older in remove_older_aside(aside):
                self.say(f"removed the store moved aside before it: {older}")
        if prepare_recovery_dir(directory):
            self.say(f"recovery: new store in {directory}")
        else:
            self.say(f"recovery: resuming from {directory}")

    def _stale_reason(self, directory: Path) -> str | None:
        if not any(directory.glob("*.sqlite3")):
            return None
        if self.broker is not None and not self.broker.keeps_log:
            return "the embedded broker was just started, empty"
        offsets = stored_offsets(directory)
        config = consumer_config(self.settings)
        missing = missing_offsets(config, self.settings.actions_topic, offsets)
        if missing:
            return f"the broker's log lacks what it read on partitions {missing}"
        return None


def broker_answers(bootstrap_servers: str, timeout_s: float = 3.0) -> bool:
    """Whether a Kafka broker answers a metadata request at `bootstrap_servers`."""
    quiet = logging.getLogger("moba.probe")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    admin = AdminClient({"bootstrap.servers": bootstrap_servers, "logger": quiet})
    try:
        admin.list_topics(timeout=timeout_s)
        return True
    except Exception:
        return False
