"""A game's whole life, record by record: the one function the server and every replay call.

A game is driven by the records of its partition of `actions`, each with its log time
(the record's Kafka timestamp): its own actions, and clock records (`Tick`) that let
time reach a game nobody acts in. `next_record` applies one; a replay that calls it
with the same records and times rebuilds the server's states byte for byte.

A clock record reaches a game only when the game has been quiet (no record of its
own) past one of its `quiet_marks`: that is when something can fall due that its own
records would not bring (docs/domain.md, Time), and it keeps the cost of time to a few
wake-ups per game, however many clock records its partition gets.
"""

from bisect import bisect_right
from collections.abc import Iterable, Iterator

from domain.auth import next_authentic_game
from domain.game import START_CLOCK, Clock, Game, make
from domain.models import Action, GameState, Tick
from domain.rules import next_game, start
from domain.timeouts import TICK, Limits, expired, is_evictable


def started(game_id: int, now: int) -> Game:
    """A new game whose first record has log time `now` (ms since the epoch)."""
    return start(game_id, now)


def next_record(
    game: Game, record: Action | Tick, now: int, limits: Limits, secret: bytes | None = None
) -> Game:
    """The game after `record`, read at log time `now`.

    An action always makes a new state (version + 1), after what time made due is
    applied (a freed seat, an abandoned game) in the same state. A clock record makes a
    new state, `last.type` "tick", only if it changed something; otherwise it returns
    the same state (same version, nothing to write), its clock moved to `now`. Time
    never goes back: `now` below the game's clock counts as the clock. A game restored
    without its time (a snapshot written before games had clocks) starts its clock at
    this record, rather than being found idle since 1970.
    """
    clock = game.clock
    if clock is START_CLOCK:  # restored without its time (an older snapshot): it starts now
        clock = make(Clock, (now, now, None if game.board.status == "running" else now))
        game = make(Game, (*game[:4], clock))
    if now < clock.now:
        now = clock.now
    if type(record) is Tick:
        due = expired(game, now, limits)
        if due is game:
            if now != clock.now:  # remembered, written with the next state or snapshot
                return make(Game, (*game[:4], make(Clock, (now, clock.active, clock.ended))))
            return game
        at = make(Clock, (now, *due.clock[1:]))
        return make(Game, (due.arena, due.board, due.version + 1, TICK, at))
    oldest, idle = game.board.oldest_seat, limits.idle_ms
    if now - clock.active >= idle or (oldest is not None and now - oldest >= idle):
        game = expired(game, now, limits)  # e.g. a seat idle too long is free for this claim
    if secret is None:  # an open game: `next_authentic_game` without its call
        return next_game(game, record, now)  # type: ignore[arg-type]
    return next_authentic_game(game, record, secret, now)  # type: ignore[arg-type]


def quiet_marks(limits: Limits) -> tuple[int, ...]:
    """How long a game must be quiet (ms since its latest record) for each clock record that reaches it.

    By `evict_ms` a game that finished with its latest record can be evicted; by
    `idle_ms` every seat and the game itself are due to time out; by both, an
    abandoned game can be evicted, and the server forgets the game until its next record.
    """
    return tuple(sorted({limits.idle_ms, limits.evict_ms, limits.idle_ms + limits.evict_ms}))


def marks_passed(quiet_ms: int, marks: tuple[int, ...]) -> int:
    """How many of `marks` a game quiet for `quiet_ms` has passed: a clock record reaches
    it when this grows (from 0 at each of its own records), and the last mark forgets it."""
    return bisect_right(marks, quiet_ms)


def replay(
    game_id: int,
    records: Iterable[tuple[Action | Tick, int]],
    limits: Limits,
    secret: bytes | None = None,
) -> Iterator[GameState]:
    """Every state the server writes for game `game_id`, from its partition's records in order.

    `records` are (record, log time) pairs: the game's actions and its partition's clock
    records (others' actions are not needed). A clock record is applied only where it
    reaches the game in the server (`quiet_marks`); replay stops once the game is
    evicted (the server dead-letters what comes later).
    """
    game: Game | None = None
    marks = quiet_marks(limits)
    latest = passed = 0  # the game's latest record time; quiet marks passed since it
    for record, now in records:
        if type(record) is Tick:
            if game is None or passed == len(marks):
                continue
            reached = marks_passed(now - latest, marks)
            if reached <= passed:
                continue
            passed = reached
        else:
            latest, passed = max(latest, now), 0
            if game is None:
                game = started(game_id, now)
        nxt = next_record(game, record, now, limits, secret)
        if nxt.version != game.version:
            yield nxt.state()
        game = nxt
        if is_evictable(game, limits):
            return
