"""How to run the games dataflow as a process: its command line and its environment.

Shared by `moba up` (cli/stack.py) and the tests, so both run exactly what a person
would type: `python -m bytewax.run dataflows.games -w N` with MOBA_* and BYTEWAX_* set.
"""

import math
import os
import subprocess
import sys
from pathlib import Path

from infra.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent


def command(workers: int = 1, python: str = sys.executable) -> list[str]:
    """The command line of one dataflow process with `workers` worker threads."""
    return [python, "-m", "bytewax.run", "dataflows.games", "-w", str(workers)]


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


def spawn(
    settings: Settings, log_path: Path, argv: list[str], recovery: bool = True
) -> subprocess.Popen[bytes]:
    """Start `argv` (usually `command(...)`) as the dataflow: its own session, output to `log_path`.

    Its own session (process group), so a harness can SIGKILL the whole dataflow at once.
    """
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env=environment(settings, recovery=recovery),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
