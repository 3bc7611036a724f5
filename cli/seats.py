"""The table `moba games seats G` prints: who holds which seat of a game, never showing a session.

A seat is taken by the first session that acts for it (docs/domain.md, Seats); the state
names its holder by a digest only, shown here as its first 8 digits beside how long
the holder has been idle (log time of its last accepted action).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domain.models import GameState


def describe_seats(state: "GameState", now_s: float) -> str:
    """The seats table of `state`, idle times measured at `now_s` (seconds since the epoch)."""
    taken = len(state.seats)
    lines = [
        f"Game {state.game_id}: {state.status}, version {state.version}; "
        f"{taken} of {len(state.players)} seats taken",
        f"{'SEAT':<6}  TEAM  ALIVE  {'HOLDER':<16}  IDLE",
    ]
    for name, player in sorted(state.players.items()):
        seat = state.seats.get(name)
        holder = "free" if seat is None else f"taken {seat.holder[:8]}"
        idle = "-" if seat is None else _idle(now_s - seat.last / 1000)
        alive = "yes" if player.alive else "no"
        lines.append(f"{name:<6}  {player.team:<4}  {alive:<5}  {holder:<16}  {idle}")
    return "\n".join(lines)


def _idle(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.0f}m"
