"""The client's view model: what the screen shows, as pure functions of the events seen so far.

Only the event loop's thread calls these; the screen draws whatever `View` is current.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from client.events import Link, Undelivered
from domain.models import GameState
from domain.phrases import outcome_words
from domain.render import EMPTY, WALL, board_cells, cell_label, header

Fragments = list[tuple[str, str]]  # prompt_toolkit's (style, text) pairs
CONNECTING = Link(up=False, detail="connecting")


@dataclass(frozen=True)
class View:
    """Everything one screen shows; replaced, never mutated. `player` None: a spectator's."""

    game_id: int
    player: str | None
    state: GameState | None = None
    link: Link = CONNECTING
    last_words: str | None = None
    last_rejected: bool = False
    latency_ms: float | None = None
    note: str | None = None
    pending: Mapping[str, float] = field(default_factory=dict)
    holder: str | None = None  # how states name our session's seat (domain.seats.holder_of)
    next_game: int | None = None  # the rematch the player chose with `n`


def absorb(view: View, state: GameState, now: float) -> View:
    """`view` after a state from `games`; other games and versions already shown are ignored."""
    if state.game_id != view.game_id:
        return view
    if view.state is not None and state.version <= view.state.version:
        return view
    last = state.last
    if last is None or last.player != view.player:
        return replace(view, state=state)
    pending = dict(view.pending)
    sent_at = pending.pop(last.action_id, None)
    latency_ms = (now - sent_at) * 1000 if sent_at is not None else view.latency_ms
    if last.type == "join" and last.accepted and view.last_words is not None:
        # a re-join after a reconnection says nothing the player asked for
        return replace(view, state=state, latency_ms=latency_ms, pending=pending)
    return replace(
        view,
        state=state,
        last_words=outcome_words(last),
        last_rejected=not last.accepted,
        latency_ms=latency_ms,
        pending=pending,
    )


def sent(view: View, action_id: str, now: float) -> View:
    """`view` after handing action `action_id` to the producer at time `now` (seconds).

    The notice about an earlier key is cleared: it no longer describes the last key.
    """
    return replace(view, pending={**view.pending, action_id: now}, note=None)


def linked(view: View, link: Link) -> View:
    """`view` after news about the broker connection."""
    return replace(view, link=link)


def undelivered(view: View, failure: Undelivered) -> View:
    """`view` after the producer gave up on one of our actions."""
    pending = {k: v for k, v in view.pending.items() if k != failure.action_id}
    return replace(view, note=f"action not delivered: {failure.error}", pending=pending)


def noted(view: View, note: str | None) -> View:
    """`view` with a local notice (why a key did nothing)."""
    return replace(view, note=note)


def idle_reason(view: View) -> str | None:
    """Why no key can do anything now (watching, game over, eliminated, not a player), or None.

    Before the first state arrives the client sends anyway: the server decides.
    """
    if view.player is None:
        return f"you are watching game {view.game_id}: press q to quit"
    state = view.state
    if state is None:
        return None
    if state.status != "running":
        return f"the game is over ({winner_words(state)}): {_after_words(state)}"
    me = state.players.get(view.player)
    if me is None:
        return f"there is no player {view.player} in game {view.game_id}"
    if seat_of_another(view):
        return f"seat {view.player} is taken by another player: press q and pick another seat"
    if not me.alive:
        return "you are eliminated: watch the others or press q to quit"
    return None


def seat_of_another(view: View) -> bool:
    """Whether the state says another session holds our player's seat."""
    if view.state is None or view.player is None:
        return False
    seat = view.state.seats.get(view.player)
    return seat is not None and seat.holder != view.holder


def rematch_of(view: View) -> int | None:
    """The game the players of this finished game play next, once its state names one."""
    state = view.state
    return state.rematch if state is not None and state.status == "finished" else None


def wants_rematch(view: View) -> View:
    """`view` after `n`: leave for the rematch, or a note saying why there is none."""
    rematch = rematch_of(view)
    if rematch is not None:
        return replace(view, next_game=rematch)
    state = view.state
    if state is None or state.status == "running":
        return noted(view, "n plays the rematch once this game is over")
    if state.status == "abandoned":
        return noted(view, "this game has no rematch: it was abandoned")
    return noted(view, "this game names no rematch")


def winner_words(state: GameState) -> str:
    """`team A wins`, `draw`, `abandoned`, or `no winner yet`."""
    if state.status == "abandoned":
        return "abandoned: nobody played for a while"
    if state.winner is None:
        return "no winner yet"
    return "draw" if state.winner == "draw" else f"team {state.winner} wins"


def status_lines(view: View) -> Fragments:
    """The status area under the board, one (style, text) pair per line."""
    lines: Fragments = []
    state = view.state
    if state is None:
        lines.append(("class:status", "waiting for the game state..."))
    else:
        me = state.players.get(view.player) if view.player is not None else None
        grenades = f"Grenades: {me.grenades}   " if me is not None else ""
        lines.append(
            (
                "class:status",
                f"{grenades}Team A: {state.live_players('A')} alive"
                f"   Team B: {state.live_players('B')} alive   (version {state.version})",
            )
        )
        if state.status != "running":
            lines.append(("class:status.over", f"GAME OVER: {winner_words(state)}"))
            lines.append(("class:status.over", _after_words(state, view.player is None)))
        elif seat_of_another(view):
            lines.append(
                ("class:status.rejected", f"Seat {view.player} is taken by another player")
            )
        elif me is not None and not me.alive:
            lines.append(("class:status.over", "You are eliminated"))
    if view.last_words is not None:
        style = "class:status.rejected" if view.last_rejected else "class:status"
        lines.append((style, f"Last action: {view.last_words}"))
    if view.latency_ms is not None:
        lines.append(("class:status", f"Latency of your last action: {view.latency_ms:.0f} ms"))
    if view.link.up:
        lines.append(("class:status", f"Broker: {view.link.detail}"))
    else:
        lines.append(("class:status.down", f"Broker: {view.link.detail}"))
    if view.note is not None:
        lines.append(("class:status.note", view.note))
    lines.append(("class:help", _help(view)))
    return lines


def _after_words(state: GameState, watching: bool = False) -> str:
    """What the keys do once a game is over."""
    if state.rematch is None:
        return "press q to quit"
    verb = "watch" if watching else "play"
    return f"press n to {verb} the rematch (game {state.rematch}) with the same teams, q to quit"


def _help(view: View) -> str:
    if rematch_of(view) is not None:
        return "n rematch   q quits"
    if view.player is None:
        return f"watching game {view.game_id}: you send nothing   q quits"
    return "arrows move   w/a/s/d throw up/left/down/right   q quits"


def board_fragments(view: View) -> Fragments:
    """Header and board from the shared renderer, with walls, teams and our own player styled."""
    state = view.state
    if state is None:
        who = "watching" if view.player is None else f"Player {view.player}"
        return [("class:header", f"*** Game {view.game_id}, {who} ***\n")]
    teams = {cell_label(n, p.grenades): p.team for n, p in state.players.items() if p.alive}
    player = view.player
    me = state.players.get(player) if player is not None else None
    mine = (
        cell_label(player, me.grenades)
        if player is not None and me is not None and me.alive
        else None
    )
    title = header(state, view.player)
    if view.player is None:
        title = f"*** Game {state.game_id}, watching ***"
    out: Fragments = [("class:header", title + "\n")]
    for y, cells in board_cells(state):
        out.append(("class:axis", f"{y} "))
        for x, cell in enumerate(cells):
            if x:
                out.append(("", " "))
            out.append((_cell_style(cell, mine, teams), cell))
        out.append(("", "\n"))
    out.append(("class:axis", "  " + " ".join(f"{x:^4}" for x in range(state.width))))
    return out


def _cell_style(cell: str, mine: str | None, teams: Mapping[str, str]) -> str:
    if cell == mine:
        return "class:me"
    if cell == WALL:
        return "class:wall"
    if cell == EMPTY or cell not in teams:
        return ""
    return f"class:team-{teams[cell].lower()}"
