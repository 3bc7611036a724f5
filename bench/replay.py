"""Replay speed: how fast a game is rebuilt from a long `actions` partition (docs/replay.md).

    python -m bench.replay --actions 200000 --games 100

Writes `actions` actions of `games` games to one partition of a fresh topic on its own
embedded broker, then replays one game as `moba games show --at` does: the whole
partition read from offset 0 (every game's records), each record admitted or not,
the game's own folded. Prints one JSON line: the read, the fold, and the rates.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.workload import fresh_settings, key_presses, produce_all, records
from infra.broker import EmbeddedBroker, free_port
from infra.replay import replay


def measure(bootstrap_servers: str, root: Path, actions: int, games: int) -> dict[str, float]:
    settings = fresh_settings(bootstrap_servers, root, partitions=1)
    script = list(key_presses(range(games), actions, seed=3))
    produce_all(settings, settings.actions_topic, records(script, settings.partitions))
    mine = sum(1 for a in script if a.game_id == 0)
    began = time.perf_counter()
    rebuilt = replay(settings, 0)
    total_s = time.perf_counter() - began
    assert rebuilt.latest == mine, (rebuilt.latest, mine)
    return {
        "messages_read": rebuilt.read,
        "game_actions": mine,
        "read_s": round(rebuilt.read_s, 3),
        "fold_s": round(rebuilt.fold_s, 3),
        "total_s": round(total_s, 3),
        "messages_per_s": round(rebuilt.read / total_s),
        "log_records_folded_per_s": round(rebuilt.read / rebuilt.fold_s),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=200_000)
    parser.add_argument("--games", type=int, default=100)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="moba-replay-") as tmp:
        root = Path(tmp)
        with EmbeddedBroker(port=free_port(), tied=True, log_path=root / "broker.log") as broker:
            result = measure(broker.bootstrap_servers, root, args.actions, args.games)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
