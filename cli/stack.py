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

    def start(self) -> "Stack":
        """Broker, topics, recovery store, dataflow; stops whatever started if a step fails."""
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
        child = Process.start(name, argv, self.log_dir / f"{name}.log", env=env)
        self.children.append(child)
        self.say(f"{name}: pid {child.pid}, log {child.log_path}")
        return child

    def add_api(self) -> Process:
        """The query API (`moba api`) on the settings' host and port, reading this stack's store."""
        host, port = self.settings.api_host, self.settings.api_port
        if port_in_use(host, port):
            raise StackError(f"the API port {host}:{port} is in use; set MOBA_API_PORT")
        child = self.add("api", [sys.executable, "-m", "cli", "api"])
        self.say(f"play in a browser: http://{host}:{port}/ (API at /games, OpenAPI at /docs)")
        return child

    def dead(self) -> list[Process]:
        """Children that have exited (a healthy stack has none)."""
        return [child for child in self.children if not child.alive()]

    def wait(self, poll_s: float = 0.5) -> Process:
        """Block until a child exits (Ctrl-C raises KeyboardInterrupt here); returns that child."""
        while True:
            dead = self.dead()
            if dead:
                return dead[0]
            broker = self.broker.process if self.broker is not None else None
            if broker is not None and broker.poll() is not None:
                raise StackError(f"the embedded broker exited ({broker.returncode})")
            time.sleep(poll_s)

    def stop(self) -> None:
        """Stop every child, last started first, then the broker if we started it.

        All children are interrupted before any is waited for: they shut down side by
        side (each takes a second or so), and the broker outlives them all.
        """
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
        self.broker = EmbeddedBroker(
            host,
            int(port),
            log_path=self.log_dir / "broker.log",
            kind=self.settings.embedded_broker,
            data_dir=self.settings.broker_dir,
        ).start()
        self.say(f"broker: embedded at {self.broker.bootstrap_servers} ({self.broker.describe()})")

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
