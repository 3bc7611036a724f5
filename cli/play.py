"""`moba play`: take the next free seat of an open game, or start a new game, and play it.

The seat is suggested from the recovery store (`api.lobby`) and claimed through the
log (`client.seating`): the server decides. When another player wins the race for a
seat, the answer says so, and the next free seat is tried with what it showed.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from domain.models import MAX_GAME_ID

if TYPE_CHECKING:
    from domain.models import GameState
    from infra.settings import Settings

ATTEMPTS = 10  # seats tried before giving up: each lost race shows at least one more taken


def play(
    game: Annotated[
        int | None,
        typer.Option(help="Take a free seat of this game only.", min=0, max=MAX_GAME_ID),
    ] = None,
) -> None:
    """Take the next free seat of an open game (or start a new one), then play it; q leaves."""
    from cli.client import run_client, say_how_it_ended
    from cli.logs import to_file
    from client.app import new_session
    from client.seating import NoAnswer
    from infra.settings import Settings

    settings = Settings()
    session = new_session()
    failure: str | None = None
    # stderr goes to the log while Kafka clients run (librdkafka writes there), so a
    # failure is told once it is back on the terminal
    with to_file(settings.data_dir / "logs" / "play.log", capture_stderr=True):
        try:
            seat = take_seat(settings, session, game, say=typer.echo)
        except NoAnswer as err:
            seat, failure = None, str(err)
        if seat is not None:
            game_id, player, token = seat
            view = run_client(settings, game_id, player, token, session)
    if seat is None:
        if failure is not None:
            typer.echo(failure, err=True)
        raise typer.Exit(1)
    say_how_it_ended(view)


def take_seat(
    settings: "Settings",
    session: str,
    only_game: int | None = None,
    say: Callable[[str], object] = print,
) -> tuple[int, str, str | None] | None:
    """(game, player, token) of a seat `session` now holds, or None (after saying why)."""
    from api.lobby import next_seat, seat_in
    from cli.client import issued_token
    from client.seating import claim, holds
    from client.transport import KafkaTransport

    fresher: dict[int, GameState] = {}  # what claims showed, newer than the store
    taken: set[tuple[int, str]] = set()
    for _ in range(ATTEMPTS):
        states = {**_stored_states(settings, only_game, say), **fresher}
        if only_game is None:
            offer = next_seat(states.values(), frozenset(taken))
        elif (named := seat_in(states[only_game], frozenset(taken))) is not None:
            offer = named
        else:
            say(f"Game {only_game} has no free seat (or is over): moba play finds another game.")
            return None
        token = issued_token(settings, offer.game_id, offer.player)  # None: open games
        with KafkaTransport(settings, [offer.game_id]) as transport:
            answer = claim(transport, offer.game_id, offer.player, session, token=token)
        if holds(answer, offer.player, session):
            started = "a new game" if answer.version == 1 else "an open game"
            say(f"Game {offer.game_id}, seat {offer.player} (team {offer.team}): {started}.")
            return offer.game_id, offer.player, token
        reason = answer.last.reason if answer.last is not None else None
        if reason == "bad_token":
            say("The server refused this machine's join token: is MOBA_SECRET the server's?")
            return None
        say(f"Seat {offer.player} of game {offer.game_id} is taken ({reason}): trying another.")
        fresher[answer.game_id] = answer
        taken.add((offer.game_id, offer.player))
    say(f"No seat after {ATTEMPTS} tries: many players are taking seats; try again.")
    return None


def _stored_states(
    settings: "Settings", only_game: int | None, say: Callable[[str], object]
) -> "dict[int, GameState]":
    """The games the store knows, by id (running ones first of all; ended ones for their ids)."""
    from api.store import GameStore, NoStore, NotARecoveryStore, UnknownGame
    from domain.rules import new_game

    try:
        with GameStore.of(settings) as store:
            if only_game is not None:
                return {only_game: store.game(only_game).state}
            return {snap.state.game_id: snap.state for snap in store.games(archived=True)}
    except UnknownGame:  # a game nobody has played yet: its first join starts it
        return {} if only_game is None else {only_game: new_game(only_game)}
    except NoStore:
        return {} if only_game is None else {only_game: new_game(only_game)}
    except NotARecoveryStore as err:  # the server decides anyway: claims still tell the truth
        say(f"Cannot read the games, trying a new one: {err}")
        return {}
