"""What the server keeps of a game between runs: its state's wire JSON, then a line with its clock.

The state alone does not say its log time (docs/domain.md, Time), and the timeouts need
it after a restart. Readers of the recovery store take the part before the newline
(`state_of_snapshot`); snapshots written before games had clocks have no newline and
resume with a clock that starts at their next record. An evicted game's snapshot is
`RETIRED`: the game is over and its final state is in the archive.
"""

from domain.game import START_CLOCK, Clock, Game
from domain.models import GameState
from domain.wire import decode_state

RETIRED = b""


def snapshot_of(state_json: bytes, clock: Clock) -> bytes:
    """`state_json` (the game's wire JSON) and `clock`, as the recovery store keeps them."""
    ended = "-" if clock.ended is None else str(clock.ended)
    return b"%s\n%d %d %s" % (state_json, clock.now, clock.active, ended.encode())


def state_of_snapshot(blob: bytes) -> GameState:
    """The state in a snapshot (raises pydantic's ValidationError if it holds none)."""
    return decode_state(blob.partition(b"\n")[0])


def game_of_snapshot(blob: bytes) -> Game:
    """The game a snapshot holds, with its clock (a snapshot without one: the start clock)."""
    state_json, _, clock_line = blob.partition(b"\n")
    state = decode_state(state_json)
    if not clock_line:
        return Game.of(state, START_CLOCK)
    now, active, ended = clock_line.split(b" ")
    return Game.of(state, Clock(int(now), int(active), None if ended == b"-" else int(ended)))
