"""Where a player who asks to play sits: the next free seat of an open game, or a new game.

This only suggests a seat, from states that may be a moment old (the recovery store's):
the server decides who gets it, because the first `join` carrying a session claims it.
A client told `seat_taken` asks again, naming the seats it has learned are taken.
Rematch games are left to the players of the game they follow, unless a player names one.
"""

from collections.abc import Iterable
from typing import NamedTuple

from domain.board import PLAYERS
from domain.models import GameState
from domain.rematch import fresh_game_id, is_rematch
from domain.rules import new_game

Taken = frozenset[tuple[int, str]]  # (game, player) seats a client has seen taken


class Offer(NamedTuple):
    """A seat to try: `new` when no open game had one, so the claim starts the game."""

    game_id: int
    player: str
    team: str
    new: bool


def free_seats(state: GameState, taken: Taken = frozenset()) -> list[str]:
    """The seats of a running game nobody holds, players alive, the team with fewer held first."""
    if state.status != "running":
        return []
    held = set(state.seats) | {p for g, p in taken if g == state.game_id}
    free = [p for p in PLAYERS if p not in held and state.players[p].alive]
    crowd = {team: sum(state.players[p].team == team for p in held) for team in ("A", "B")}
    return sorted(free, key=lambda p: (crowd[state.players[p].team], state.players[p].team, p))


def seat_in(state: GameState, taken: Taken = frozenset()) -> Offer | None:
    """The seat to try in the game a player named (a rematch too), or None when it has none free."""
    seats = free_seats(state, taken)
    if not seats:
        return None
    new = state.version == 0 and all(g != state.game_id for g, _ in taken)  # no one is there yet
    return Offer(state.game_id, seats[0], state.players[seats[0]].team, new=new)


def next_seat(states: Iterable[GameState], taken: Taken = frozenset()) -> Offer:
    """The seat to try: in the open game with the most seats held (join the people there,
    the oldest first), else seat A1 of a new game whose id no known game has."""
    known = list(states)
    ids = {s.game_id for s in known}
    known += [new_game(g) for g in sorted({g for g, _ in taken} - ids)]  # too new for the store
    open_games = [s for s in known if not is_rematch(s.game_id) and free_seats(s, taken)]
    if open_games:
        offer = seat_in(min(open_games, key=lambda s: (-len(s.seats), s.game_id)), taken)
        if offer is not None:  # an open game has a free seat by definition
            return offer
    game_id = fresh_game_id(s.game_id for s in known)
    player = free_seats(new_game(game_id))[0]
    return Offer(game_id, player, new_game(game_id).players[player].team, new=True)
