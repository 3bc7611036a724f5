"""Children that do not outlive us: the kernel stops them when the process that started them dies.

`moba up` starts its broker and dataflow in sessions of their own (so a Ctrl-C in the
terminal reaches only `moba up`, which stops them in order). A session of its own also
means no signal reaches them when `moba up` itself is killed, so a `tied` child asks the
kernel (Linux's PR_SET_PDEATHSIG) for SIGTERM when its parent dies, whatever kills the
parent: a signal, kill -9, a crash. Elsewhere `tied` does nothing.
"""

import ctypes
import os
import signal
import subprocess
import sys
from typing import Any

PR_SET_PDEATHSIG = 1
# Signals that stop us, held while a child is spawned: one arriving in the middle is
# delivered once the child is known to its owner (Python runs its fork handlers in the
# parent when a child has a preexec_fn, and a KeyboardInterrupt raised there is lost).
STOPPING = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def spawn(argv: list[str], tied: bool = False, **popen: Any) -> "subprocess.Popen[bytes]":
    """`subprocess.Popen(argv, **popen)`; a `tied` child gets SIGTERM when this process dies."""
    if not tied or not sys.platform.startswith("linux"):
        return subprocess.Popen(argv, **popen)
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # libc's, already loaded: no lookup
    parent = os.getpid()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)

    def in_child() -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)

    try:
        return subprocess.Popen(argv, preexec_fn=in_child, **popen)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def hold_stopping_signals() -> None:
    """Call first thing in a helper thread: stopping signals then reach the main thread only."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
