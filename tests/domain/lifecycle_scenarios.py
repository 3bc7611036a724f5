"""Short real games for lifecycle tests: one that team A ends by itself in nine actions."""

from domain.models import Action, Move, Throw


def self_defeat(game_id: int, session: str | None = None) -> list[Action]:
    """Team A eliminates itself (grenades hit team mates), so B wins in nine actions."""

    def act(kind: type[Move] | type[Throw], player: str, direction: str) -> Action:
        return kind(game_id=game_id, player=player, direction=direction, session=session)  # type: ignore[arg-type]

    return [
        act(Throw, "A1", "right"),  # lands on (3, 9): A2 and A3 are hit
        act(Throw, "A5", "left"),  # lands on (5, 9): A4 is hit
        *(act(Move, "A1", "right") for _ in range(4)),  # A1 to (4, 9)
        act(Throw, "A5", "left"),  # lands on (5, 9) again: A1 is hit
        act(Move, "A5", "left"),  # A5 to (7, 9), above the wall at (7, 7)
        act(Throw, "A5", "down"),  # stopped by the wall: lands on (7, 8), beside A5
    ]
