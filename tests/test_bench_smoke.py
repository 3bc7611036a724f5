"""`moba bench` runs end to end on tiny inputs and reports every key of the report (timings never asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.gateway import KEYS as GATEWAY_KEYS
from bench.report import KEYS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def assert_every_repeat_ran(done: subprocess.CompletedProcess[str]) -> None:
    """The bench exited 0 and no repeat failed; else its output from the first failure on.

    The bench goes on past a failed repeat, so that failure and the child's log tail it
    carries sit in the middle of stderr, not at its end.
    """
    failed = [line for line in done.stderr.splitlines() if "failed in this repeat" in line]
    assert done.returncode == 0, "\n".join([*failed, done.stderr[-3000:]])
    assert not failed, done.stderr[done.stderr.index(failed[0]) :][:6000]


def test_bench_runs_on_tiny_inputs_and_emits_every_key(tmp_path: Path) -> None:
    argv = [
        sys.executable,
        "-c",
        "import sys; from cli.main import app; sys.exit(app())",
        "bench",
        "--quick",
        "--actions", "2000",
        "--games", "20",
        "--live-games", "50",
        "--samples", "20",
        "--json",
        "--plots", str(tmp_path / "plots"),
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=280, cwd=tmp_path)
    assert_every_repeat_ran(done)
    figures = json.loads(done.stdout)
    assert set(figures) == set(KEYS)
    assert all(isinstance(v, int | float) for v in figures.values()), figures
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "latency.png",
        "throughput.png",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["plots"]  # nothing else where it ran


def test_the_exchange_measurement_runs_one_and_two_processes_on_tiny_inputs() -> None:
    argv = [
        sys.executable,
        "-m",
        "bench.exchange",
        "--few",
        "1000",
        "--many",
        "3000",
        "--repeat",
        "1",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert_every_repeat_ran(done)
    assert "one process" in done.stdout and "two processes" in done.stdout


def test_the_key_cost_measurement_runs_on_tiny_inputs() -> None:
    argv = [sys.executable, "-m", "bench.keyed", "--items", "2000", "--repeat", "1"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| 1")]
    assert [row.split("|")[1].strip() for row in rows] == ["1,000", "100", "10", "1"]
    assert "waking a key:" in done.stdout and "calibration:" in done.stdout


def test_the_cpu_costs_run_over_100_games_and_the_workloads_on_tiny_inputs() -> None:
    argv = [sys.executable, "-m", "bench.profile", "--no-flow", "--games", "10", "--per-game", "3"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    over = [line for line in done.stdout.splitlines() if line.startswith("pure domain")]
    assert [line.split(" games")[0].rsplit(" ", 1)[1] for line in over] == ["10", "100"]
    assert "the flow on bytewax's testing source and sink" in done.stdout


def test_the_gateway_load_runs_both_sides_on_a_few_players() -> None:
    argv = [sys.executable, "-m", "bench.gateway", "--quick", "--players", "20", "--games", "2"]
    argv += ["--seconds", "3", "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert_every_repeat_ran(done)
    figures = json.loads(done.stdout)
    assert set(figures) == set(GATEWAY_KEYS)
    assert all(isinstance(v, int | float) for v in figures.values()), figures
    assert "calibration:" in done.stderr and "calibration after:" in done.stderr
