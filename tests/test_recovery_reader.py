"""The recovery-store rules mirrored from Bytewax, and the unpickler that never runs code.

Pure and fast: no broker, no dataflow.
"""

import os
import pickle

from domain.rules import new_game
from domain.wire import encode_state
from infra.recovery import FIRST_EPOCH, resume_epoch, snapshot_bytes


def test_resumes_from_the_first_epoch_when_nothing_ran() -> None:
    assert resume_epoch([], []) == FIRST_EPOCH == 1


def test_resumes_from_the_slowest_worker_of_the_latest_execution() -> None:
    exs = [(0, 2, 1), (1, 2, 8)]
    fronts = [(0, 0, 7), (0, 1, 9), (1, 0, 12), (1, 1, 11)]
    assert resume_epoch(exs, fronts) == 11


def test_a_worker_without_progress_counts_from_its_executions_resume_epoch() -> None:
    exs = [(0, 2, 1), (1, 3, 8)]
    fronts = [(1, 0, 12), (1, 1, 11)]  # worker 2 of execution 1 recorded nothing yet
    assert resume_epoch(exs, fronts) == 8


def test_a_snapshot_of_bytes_decodes_to_those_bytes() -> None:
    raw = encode_state(new_game(3))
    assert snapshot_bytes(pickle.dumps(raw)) == raw


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch /tmp/moba-pwned",))


def test_a_pickle_that_would_call_code_is_refused_not_run() -> None:
    assert snapshot_bytes(pickle.dumps(_Boom())) is None
    assert not os.path.exists("/tmp/moba-pwned")


def test_anything_but_pickled_bytes_is_not_a_snapshot_of_ours() -> None:
    assert snapshot_bytes(pickle.dumps(42)) is None
    assert snapshot_bytes(b"not a pickle") is None
    assert snapshot_bytes(b"") is None
