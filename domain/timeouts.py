"""What time alone does to a game: seats of idle players free, idle games end, ended games leave memory.

Time is log time: the Kafka timestamps of the records a game has seen, handed in by
the caller, never a clock read here, so replaying the same records decides the same.
"""

from typing import NamedTuple

from domain.game import NO_SEATS, Clock, Game, Result, make, oldest_seat


class Limits(NamedTuple):
    """The server's timeouts, in ms of log time (from MOBA_IDLE_TIMEOUT_S and MOBA_EVICT_AFTER_S)."""

    idle_ms: int = 300_000  # no accepted action for this long: seat freed, game abandoned
    evict_ms: int = 60_000  # an ended game stays in the server's memory this long


# `last` of a state that time alone made: no player, nothing asked
TICK = Result("", "", "tick", None, True, None)


def expired(game: Game, now: int, limits: Limits) -> Game:
    """`game` at log time `now` with what is due by then: the same object if nothing is.

    A seat whose holder's last accepted action is `idle_ms` old is freed; a running game
    with no accepted action for `idle_ms` is abandoned, ended at the moment it went idle
    (its seats are free by then: a seat's last action is an accepted action of the game).
    Finished games keep their seats: they say who played what, for the rematch.
    """
    board, clock = game.board, game.clock
    if board.status != "running":
        return game
    idle = limits.idle_ms
    oldest = board.oldest_seat
    if oldest is not None and now - oldest >= idle:
        kept = {name: hold for name, hold in board.seats.items() if now - hold.last < idle}
        board = board._replace(seats=kept or NO_SEATS, oldest_seat=oldest_seat(kept))
    if now - clock.active >= idle:
        board = board._replace(status="abandoned", seats=NO_SEATS, oldest_seat=None)
        clock = make(Clock, (clock.now, clock.active, clock.active + idle))
    if board is game.board:
        return game
    return make(Game, (game.arena, board, game.version, game.last, clock))


def is_evictable(game: Game, limits: Limits) -> bool:
    """Whether `game` ended `evict_ms` ago: its final state is written and the server may forget it."""
    ended = game.clock.ended
    return ended is not None and game.clock.now - ended >= limits.evict_ms
