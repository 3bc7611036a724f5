"""Memory bounded by live games: RSS of the real dataflow after 10,000 finished games, evicted or not.

    python -m bench.eviction --games 10000 --keep

Plays `--games` short games to their end (team A eliminates itself in nine actions) in
waves, on the real broker and dataflow, twice: with ended games evicted one second
after they end (`MOBA_EVICT_AFTER_S=1`, the archive keeps their final states) and with
eviction off (`--keep`). Prints the dataflow's RSS before any game and after the last wave.
"""

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from domain.models import Action, Move, Throw


def self_defeat(game_id: int, session: str | None = None) -> list[Action]:
    """Team A eliminates itself (grenades hit team mates), so B wins in nine actions."""

    def act(kind: type[Move] | type[Throw], player: str, direction: str) -> Action:
        return kind(game_id=game_id, player=player, direction=direction, session=session)  # type: ignore[arg-type]

    return [
        act(Throw, "A1", "right"),  # lands on (3, 9): A2 and A3 are hit
        act(Throw, "A5", "left"),  # lands on (5, 9): A4 is hit
        *(act(Move, "A1", "right") for _ in range(4)),  # A1 to (4, 9)
        act(Throw, "A5", "left"),  # lands on (5, 9) again: A1 is hit
        act(Move, "A5", "left"),  # A5 to (7, 9), above the wall at (7, 7)
        act(Throw, "A5", "down"),  # stopped by the wall: lands on (7, 8), beside A5
    ]


def rss_after_games(bootstrap: str, root: Path, games: int, evict: bool, wave: int) -> dict:
    """RSS (MiB) of a fresh dataflow before any game and after `games` finished games."""
    from bench.memory import drain
    from bench.soak import GamesLog
    from bench.workload import fresh_settings, produce_all, records, rss_bytes
    from dataflows import launch

    settings = fresh_settings(
        bootstrap,
        root,
        evict_after_s=1.0 if evict else 1e9,
        tick_interval_s=5.0,
        snapshot_interval_s=1.0,
    )
    flow = launch.start(settings, root / f"dataflow-evict-{evict}.log")
    log = GamesLog(settings, keep=False)
    try:
        warm = self_defeat(0)[:1]
        produce_all(settings, settings.actions_topic, records(warm, settings.partitions))
        drain(log, flow, 1, 120)
        before = rss_bytes(flow.pid)
        started = time.monotonic()
        for first in range(1, games + 1, wave):
            actions = [
                a for g in range(first, min(first + wave, games + 1)) for a in self_defeat(g)
            ]
            produce_all(settings, settings.actions_topic, records(actions, settings.partitions))
            drain(log, flow, 1 + 9 * min(first + wave - 1, games), 300)
        played_s = time.monotonic() - started
        if evict:
            until_archived(settings.archive_path, games, 120)
        after = rss_bytes(flow.pid)
        return {
            "evict": evict,
            "games": games,
            "played_s": round(played_s, 1),
            "rss_before_mib": round(before / 2**20, 1),
            "rss_after_mib": round(after / 2**20, 1),
        }
    finally:
        log.close()
        flow.kill()


def until_archived(path: Path, games: int, timeout_s: float) -> None:
    """Poll the archive to a deadline until it holds `games` games."""
    deadline = time.monotonic() + timeout_s
    count = 0
    while count < games:
        assert time.monotonic() < deadline, f"{count} of {games} games archived in {timeout_s}s"
        if path.exists():
            with sqlite3.connect(path, timeout=30) as conn:
                count = conn.execute("SELECT COUNT(*) FROM final").fetchone()[0]
        time.sleep(0.2)  # the archive is a file: there is nothing to block on


def main() -> None:
    from infra.broker import EmbeddedBroker, free_port

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=10_000)
    parser.add_argument("--wave", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="also run with eviction off")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with EmbeddedBroker(port=free_port(), tied=True, log_path=root / "broker.log") as broker:
            for evict in (True, False) if args.keep else (True,):
                report = rss_after_games(
                    broker.bootstrap_servers, root, args.games, evict, args.wave
                )
                print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
