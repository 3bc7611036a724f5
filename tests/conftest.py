"""Fixtures shared by the whole suite: one real embedded broker per session, fresh topics per test.

There is no mock of Kafka anywhere: a test that needs a broker gets the real embedded
broker (MOBA_EMBEDDED_BROKER: tansu or noida) on a free port, and a broker that cannot
start fails the test, never skips it.
"""

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from bench.workload import fresh_settings
from dataflows import launch
from dataflows.process import Process
from infra.broker import EmbeddedBroker, free_port
from infra.settings import Settings
from tests.terminal import Terminal

# Property tests judge rules, not speed: on a loaded two-core CI machine a single example
# can take longer than hypothesis's default 200 ms deadline without anything being wrong.
hypothesis_settings.register_profile("moba", deadline=None)
hypothesis_settings.load_profile("moba")

LOG_LINES_ON_FAILURE = 60


def pytest_configure(config: pytest.Config) -> None:
    """Undo what a launcher may have left on the signals, so children behave as in a terminal.

    Tests stop dataflows with SIGINT, as Ctrl-C and `moba up` do. A shell without job
    control starts background jobs (`cmd &`, so also `nohup cmd &`) with SIGINT ignored;
    every child inherits that, Python keeps it so, and the SIGINT would do nothing. A
    handler, unlike an ignored signal, is reset to the default in a child that execs.

    Some launchers also start jobs with SIGCHLD blocked, and a signal mask survives fork
    and exec. The tmux server the terminal tests start then learns late, or never, that
    the program in its pane has exited: the pane reads dead, the process stays a zombie
    and its exit status never shows.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test's report carries the end of every log its processes wrote, and the broker's.

    The dataflows, brokers and gateways a test starts log to files in its tmp_path, and CI
    keeps no temporary directory: without this, a child that died at start-up leaves
    only "0 messages after 60 s" and its own traceback is lost.
    """
    report = yield
    if not report.failed:
        return report
    funcargs = getattr(item, "funcargs", {})
    tmp_path, broker = funcargs.get("tmp_path"), funcargs.get("broker")
    logs = sorted(tmp_path.rglob("*.log")) if isinstance(tmp_path, Path) else []
    if isinstance(broker, EmbeddedBroker) and broker.log_path is not None:
        logs.append(broker.log_path)  # the session's broker, shared with every earlier test
    for log in logs:
        lines = log.read_text(errors="replace").splitlines()[-LOG_LINES_ON_FAILURE:]
        report.sections.append((f"{log.name}, its end", "\n".join(lines)))
    return report


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """The embedded broker MOBA_EMBEDDED_BROKER names, on a free port, for the whole session."""
    root = tmp_path_factory.mktemp("broker")
    with EmbeddedBroker(port=free_port(), tied=True, log_path=root / "broker.log") as running:
        yield running


@pytest.fixture
def settings(broker: EmbeddedBroker, tmp_path: Path) -> Settings:
    """Settings pointing at the session broker, with topics and a data dir of this test's own."""
    return fresh_settings(
        broker.bootstrap_servers, tmp_path / "data", partitions=4, snapshot_interval_s=0.2
    )


@pytest.fixture
def run_dataflow(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """Start `python -m bytewax.run dataflows.games` on this test's settings; killed at teardown.

    `run_dataflow(workers=4, recovery=True)` returns the started `Process`.
    """
    started: list[Process] = []

    def start(workers: int = 1, recovery: bool = True, args: list[str] | None = None) -> Process:
        log = tmp_path / f"dataflow-{len(started)}.log"
        flow = launch.start(settings, log, args, workers=workers, recovery=recovery)
        started.append(flow)
        return flow

    yield start
    for flow in started:
        flow.kill()


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    """A real terminal (a private tmux server) for end-to-end tests; killed at teardown."""
    term = Terminal()
    yield term
    term.close()
