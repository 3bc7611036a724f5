"""The REST API's response bodies: every game carries how fresh its snapshot is."""

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from api.store import GameSnapshot
from domain.models import GameState, Status, Winner


class Freshness(BaseModel):
    """Which snapshot answered, and how old it is."""

    epoch: int = Field(description="Bytewax epoch at whose end the snapshot was taken.")
    resume_epoch: int = Field(description="Epoch recovery would resume from when it was read.")
    written_at: datetime = Field(
        description="When Bytewax wrote the snapshot (UTC, 1 s resolution)."
    )
    age_s: float = Field(description="Seconds between `written_at` and this response.")

    @classmethod
    def of(cls, snap: GameSnapshot, now: datetime) -> "Freshness":
        return cls(
            epoch=snap.epoch,
            resume_epoch=snap.resume_epoch,
            written_at=snap.written_at,
            age_s=snap.age_s(now),
        )


class LivePlayers(BaseModel):
    A: int
    B: int


class GameSummary(BaseModel):
    """One line of `GET /games`."""

    game_id: int
    status: Status
    winner: Winner | None
    version: int
    live_players: LivePlayers
    snapshot: Freshness

    @classmethod
    def of(cls, snap: GameSnapshot, now: datetime) -> "GameSummary":
        s = snap.state
        return cls(
            game_id=s.game_id,
            status=s.status,
            winner=s.winner,
            version=s.version,
            live_players=LivePlayers(A=s.live_players("A"), B=s.live_players("B")),
            snapshot=Freshness.of(snap, now),
        )


class GamePage(BaseModel):
    """A page of games by id; pass `next_after` as `after` for the next page."""

    games: list[GameSummary]
    limit: int
    after: int
    next_after: int | None = Field(description="Cursor for the next page; null on the last page.")


class GameDetail(BaseModel):
    """`GET /games/{id}`: the state in the wire format, and its freshness."""

    state: GameState
    snapshot: Freshness

    @classmethod
    def of(cls, snap: GameSnapshot, now: datetime) -> "GameDetail":
        return cls(state=snap.state, snapshot=Freshness.of(snap, now))


class Health(BaseModel):
    """`GET /health`: the API is up; `store` says whether games can be read."""

    status: str = "ok"
    store: str = Field(description="`ready`, or `unavailable` with a message.")
    resume_epoch: int | None = None
    message: str | None = None


class ErrorBody(BaseModel):
    """Every error: a message for people, and details for programs when there are any."""

    message: str
    errors: list[dict[str, object]] | None = None


def now_utc() -> datetime:
    return datetime.now(UTC)
