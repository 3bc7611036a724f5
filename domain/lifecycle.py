"""A game's whole life, record by record: the one function the server and every replay call.

A game is driven by the records of its partition of `actions`, each with its log time
(the record's Kafka timestamp): its own actions, and clock records (`Tick`) that let
time reach a game nobody acts in. `next_record` applies one; a replay that calls it
with the same records and times rebuilds the server's states byte for byte.
"""

from collections.abc import Iterable, Iterator

from domain.auth import next_authentic_game
from domain.game import Clock, Game, make
from domain.models import Action, GameState, Tick
from domain.rules import start
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
    `game` itself (nothing to write). Time never goes back: `now` below the game's
    clock counts as the clock.
    """
    clock = game.clock
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
    due = expired(game, now, limits) if now - clock.active >= limits.idle_ms else game
    return next_authentic_game(due, record, secret, now)  # type: ignore[arg-type]


def replay(
    game_id: int,
    records: Iterable[tuple[Action | Tick, int]],
    limits: Limits,
    secret: bytes | None = None,
) -> Iterator[GameState]:
    """Every state the server writes for game `game_id`, from its partition's records in order.

    `records` are (record, log time) pairs: the game's actions and its partition's clock
    records (others' actions are not needed). Clock records before the game's first
    action are skipped, as the server does; replay stops once the game is evicted
    (the server dead-letters what comes later).
    """
    game: Game | None = None
    for record, now in records:
        if game is None:
            if type(record) is Tick:
                continue
            game = started(game_id, now)
        nxt = next_record(game, record, now, limits, secret)
        if nxt.version != game.version:
            yield nxt.state()
        game = nxt
        if is_evictable(game, limits):
            return
