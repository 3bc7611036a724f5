"""Memory bounds: bytes per game held in state, and a flat RSS at steady load.

Shorter runs of `python -m bench.memory` (bench/memory.py, figures in docs/reliability.md).
"""

import pytest

from bench.memory import rss_at_steady_load, rss_per_game, state_bytes_per_game

KIB = 1024
MIB = 1024 * KIB


def test_a_game_in_state_takes_a_few_kilobytes_of_heap() -> None:
    per_game = state_bytes_per_game(games=1000, actions_per_game=10)

    print(f"traced heap per game: {per_game / KIB:.1f} KiB")
    assert 1 * KIB < per_game < 32 * KIB


@pytest.mark.slow
def test_the_dataflows_rss_grows_by_a_few_kilobytes_per_game(settings, tmp_path) -> None:
    per_game = rss_per_game(settings, tmp_path, games=5000)

    print(f"dataflow RSS per game: {per_game / KIB:.1f} KiB")
    assert per_game < 64 * KIB


@pytest.mark.slow
def test_rss_stays_flat_at_steady_load_after_warm_up(settings, tmp_path) -> None:
    report = rss_at_steady_load(settings, tmp_path, games=100, rate=600, actions=27_000)

    print(report.summary())
    _, middle, last = report.thirds()
    assert len(report.samples) >= 30
    # 9,000 actions between the thirds' medians: a leak of 1 KiB per action (~9 MiB) fails;
    # smaller leaks are for the full run (720,000 actions, docs/reliability.md)
    assert last - middle < 8.0, report.summary()
