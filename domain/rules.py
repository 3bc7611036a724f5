"""The game's rules as pure functions: apply one action to a game and get the next game.

A rejected action is a normal outcome, not an exception: the version still advances
and `last` says why, because the authoritative server must tell the client.

The rules work on the lean values of domain/game.py (`next_game`); `new_game`,
`next_state`, `reject` and `fold` are the same rules on the pydantic models, for
callers that hold a `GameState`.
"""

from collections.abc import Iterable

from domain.board import (
    DEFAULT_WALLS,
    GRENADES,
    HEIGHT,
    START_COLUMNS,
    START_ROW,
    TEAMS,
    THROW_RANGE,
    WIDTH,
    Cell,
    Direction,
    on_board,
    step,
)
from domain.game import Arena, Board, Clock, Game, Hold, Piece, Result, make
from domain.models import Action, GameState, Join, Leave, Move, RejectReason, Throw
from domain.rematch import rematch_id
from domain.seats import is_seat_taken, oldest_after, seated


def start(game_id: int, now: int = 0) -> Game:
    """The default layout: the talk's map, five players a team on their home rows; log time `now`."""
    players = {
        f"{team}{i}": Piece(team, x, START_ROW[team], GRENADES)
        for team in TEAMS
        for i, x in enumerate(START_COLUMNS, start=1)
    }
    arena = Arena.of(game_id, WIDTH, HEIGHT, DEFAULT_WALLS)
    return Game(arena, Board.of(players), 0, None, Clock(now, now, None))


def next_game(game: Game, action: Action, now: int | None = None) -> Game:
    """The game after `action` at log time `now`, its outcome in `last` and `version` advanced by one.

    `now` (ms, the record's timestamp) never moves the game's clock back; None keeps it.
    An accepted action marks the game active, and refreshes or claims its session's seat.
    """
    reason = rejection(game, action)
    if reason is not None:
        return rejected(game, action, reason, now)
    arena, board, version, _, clock = game
    was, active, ended = clock
    if now is None or now < was:
        now = was
    kind = type(action)
    if kind is Throw:  # before the seats: a throw that ends the game takes no claim
        board = _exploded(arena, board, action)  # type: ignore[arg-type]
    seats, oldest = board.seats, None  # no seat taken, none claimed: none the oldest
    if seats or action.session is not None:
        seats = seated(seats, action, now, board.status == "running")
        oldest = oldest_after(board, seats, action.player)
    if kind is Move:  # a move leaves the game running: one new board, with its seats
        board = _moved(arena, board, action, seats, oldest)  # type: ignore[arg-type]
    elif seats is not board.seats:
        board = make(Board, (*board[:4], seats, board[5], oldest))
    if ended is None and board.status != "running":
        clock = make(Clock, (now, now, now))
    elif now != was or now != active:
        clock = make(Clock, (now, now, ended))
    return make(Game, (arena, board, version + 1, _result(action, None), clock))


def rejected(game: Game, action: Action, reason: RejectReason, now: int | None = None) -> Game:
    """`action` recorded as rejected for `reason`: only the version, `last` and the clock's `now` change."""
    clock = game.clock
    if now is not None and now > clock.now:
        clock = make(Clock, (now, clock.active, clock.ended))
    last = _result(action, reason)
    return make(Game, (game.arena, game.board, game.version + 1, last, clock))


def rejection(game: Game, action: Action) -> RejectReason | None:
    """Why `action` cannot be applied to `game`, or None if it can (first reason wins)."""
    status, _, players, occupied, seats, _, _ = game.board
    player = players.get(action.player)
    kind = type(action)
    if kind is Join or kind is Leave:
        if player is None:
            return "unknown_player"
        return "seat_taken" if seats and is_seat_taken(seats, action) else None
    if status != "running":
        return "game_over"
    if player is None:
        return "unknown_player"
    if seats and is_seat_taken(seats, action):
        return "seat_taken"
    _, x, y, grenades, alive = player
    if not alive:
        return "eliminated"
    arena = game.arena
    direction = action.direction  # type: ignore[union-attr]  # joins and leaves returned above
    row = arena.neighbours.get((x, y))  # `arena.target`, without a method call on the hot path
    target = row[direction] if row is not None else arena.target(x, y, direction)
    if kind is Move:
        if target is None:
            inside = on_board(step((x, y), direction), arena.width, arena.height)
            return "wall" if inside else "out_of_bounds"
        return "occupied" if target in occupied else None
    if grenades == 0:
        return "no_grenades"
    return "blocked" if target is None else None


def landing_cell(where: Arena | GameState, start: Cell, direction: Direction) -> Cell:
    """Where a grenade thrown from `start` lands: up to THROW_RANGE cells, stopped by walls and edges.

    Players do not stop it. The caller checks that the first cell is open.
    """
    open_cells = _arena(where).open_cells
    landing = start
    for _ in range(THROW_RANGE):
        nxt = step(landing, direction)
        if nxt not in open_cells:
            break
        landing = nxt
    return landing


def blast_cells(where: Arena | GameState, centre: Cell) -> set[Cell]:
    """The landing cell and its four orthogonal neighbours on the board."""
    arena = _arena(where)
    cells = {centre, *(step(centre, d) for d in ("up", "down", "left", "right"))}
    return {c for c in cells if on_board(c, arena.width, arena.height)}


def _arena(where: Arena | GameState) -> Arena:
    if isinstance(where, Arena):
        return where
    return Arena.of(where.game_id, where.width, where.height, where.walls)


def _result(action: Action, reason: RejectReason | None) -> Result:
    direction = getattr(action, "direction", None)
    fields = (action.action_id, action.player, action.type, direction, reason is None, reason)
    return make(Result, fields)


def _moved(
    arena: Arena, board: Board, action: Move, seats: dict[str, Hold], oldest: int | None
) -> Board:
    """`board` after the accepted `action`, with `seats` (and their `oldest`): the seats after it."""
    status, winner, players, occupied, _, rematch, _ = board
    name = action.player
    team, x, y, grenades, _ = players[name]
    direction = action.direction
    row = arena.neighbours.get((x, y))  # as in `rejection`
    there = row[direction] if row is not None else arena.target(x, y, direction)
    assert there is not None  # the move was accepted: its target is an open cell
    moved = make(Piece, (team, *there, grenades, True))
    occupied = occupied.symmetric_difference(((x, y), there))  # one leaves, one arrives
    players = {**players, name: moved}
    return make(Board, (status, winner, players, occupied, seats, rematch, oldest))


def _exploded(arena: Arena, board: Board, action: Throw) -> Board:
    thrower = board.players[action.player]
    hit = blast_cells(arena, landing_cell(arena, thrower.cell, action.direction))
    players = dict(board.players)
    players[action.player] = thrower._replace(grenades=thrower.grenades - 1)
    for name, p in players.items():
        if p.alive and p.cell in hit:
            players[name] = p._replace(alive=False)
    occupied = board.occupied - hit
    standing = [team for team in TEAMS if any(p.alive and p.team == team for p in players.values())]
    if len(standing) == 2:
        return board._replace(players=players, occupied=occupied)
    winner = standing[0] if standing else "draw"
    rematch = rematch_id(arena.game_id)
    return Board("finished", winner, players, occupied, board.seats, rematch, board.oldest_seat)


def new_game(game_id: int) -> GameState:
    """`start` as a model: the talk's map, five players a team on their home rows."""
    return start(game_id).state()


def next_state(state: GameState, action: Action) -> GameState:
    """`next_game` on the models: the state after `action`, its outcome in `last`."""
    return next_game(Game.of(state), action).state()


def reject(state: GameState, action: Action, reason: RejectReason) -> GameState:
    """Record `action` as rejected for a reason the rules cannot see (e.g. a bad join token)."""
    return rejected(Game.of(state), action, reason).state()


def fold(game_id: int, actions: Iterable[Action], state: GameState | None = None) -> GameState:
    """Apply `actions` in order, starting from `state` or a new game, with no time passing.

    The oracle of every test that plays actions alone; a replay of the log, with its
    records' times and clock records, is `domain.lifecycle.replay`.
    """
    current = Game.of(state) if state is not None else start(game_id)
    for action in actions:
        current = next_game(current, action)
    return current.state()
