"""How to run the games dataflow as a process: its command line, its environment, a cluster's.

Shared by `moba up` (cli/stack.py), the bench and the tests, so all run exactly what a
person would type: `python -m bytewax.run dataflows.games -w N` with MOBA_* and BYTEWAX_*
set, and `-i I -a ADDRESSES` added for each process of a cluster.
"""

import math
import os
import sys
from pathlib import Path

from dataflows.process import Process
from infra.broker import free_port
from infra.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent


def command(workers: int = 1, flow: str = "dataflows.games") -> list[str]:
    """The command line of one dataflow process with `workers` worker threads."""
    return [sys.executable, "-m", "bytewax.run", flow, "-w", str(workers)]


def cluster(processes: int, workers: int = 1, flow: str = "dataflows.games") -> list[list[str]]:
    """The command line of each process of a `processes` x `workers` cluster.

    Several processes find each other with `-i` (this one's index) and `-a` (every
    process's address, here free local ports); a single process needs neither.
    """
    if processes == 1:
        return [command(workers, flow)]
    addresses = ";".join(f"127.0.0.1:{free_port()}" for _ in range(processes))
    return [[*command(workers, flow), "-i", str(i), "-a", addresses] for i in range(processes)]


def environment(settings: Settings, recovery: bool = True) -> dict[str, str]:
    """The child's environment: ours, plus the settings and (if `recovery`) bytewax's recovery vars.

    `bytewax.run` reads whole seconds, so the snapshot interval is rounded up to >= 1 s.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOBA_", "BYTEWAX_"))}
    env.update(settings.as_env())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    if recovery:
        env["BYTEWAX_RECOVERY_DIRECTORY"] = str(settings.recovery_dir.resolve())
        env["BYTEWAX_SNAPSHOT_INTERVAL"] = str(max(1, math.ceil(settings.snapshot_interval_s)))
        env["BYTEWAX_RECOVERY_BACKUP_INTERVAL"] = str(math.ceil(settings.backup_interval_s))
    return env


def start(
    settings: Settings,
    log_path: Path,
    argv: list[str] | None = None,
    workers: int = 1,
    recovery: bool = True,
) -> Process:
    """Start the dataflow (`argv`, by default `command(workers)`) on `settings`, logging to `log_path`."""
    return Process.start(
        "dataflow",
        argv or command(workers),
        log_path,
        env=environment(settings, recovery=recovery),
        cwd=REPO_ROOT,
    )


def start_cluster(
    settings: Settings,
    log_dir: Path,
    processes: int,
    workers: int = 1,
    name: str = "dataflow",
    recovery: bool = True,
) -> list[Process]:
    """Start every process of a `processes` x `workers` cluster; process i logs to NAME-i.log."""
    return [
        start(settings, log_dir / f"{name}-{i}.log", argv, recovery=recovery)
        for i, argv in enumerate(cluster(processes, workers))
    ]
