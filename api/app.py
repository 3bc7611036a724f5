"""The API: games as the recovery store holds them, live states as SSE, and the WebSocket gateway.

`create_app` is handed its settings by the entrypoint (`moba api`); the store is opened
on the first request that needs it, so the API can start before the dataflow.
Every error, including invalid input, is JSON with a `message`.
"""

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException

from api.events import state_events
from api.gateway import Gateway, add_gateway
from api.health import add_health
from api.metrics import Metrics, add_metrics
from api.offsets import Offsets
from api.replay import ReplayedGame, Replays
from api.schemas import ErrorBody, GameDetail, GamePage, GameSummary, Health, now_utc
from api.store import GameStore, NoStore, NotARecoveryStore, UnknownGame
from api.web import add_web_page
from domain.models import MAX_GAME_ID, GameState
from infra.settings import Settings

GameIdPath = Annotated[int, Path(ge=0, le=MAX_GAME_ID, description="The game's id.")]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown game."},
    422: {"model": ErrorBody, "description": "Invalid id or query parameter."},
    503: {"model": ErrorBody, "description": "No readable recovery store (yet)."},
}
REPLAY_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown game, or a version it never reached."},
    409: {
        "model": ErrorBody,
        "description": "The log holds a record the rules failed on: no replay past it.",
    },
    410: {"model": ErrorBody, "description": "The actions log was trimmed: no replay."},
    503: {"model": ErrorBody, "description": "No readable recovery store, or no broker."},
}


class Stores:
    """The one open GameStore: opened when first needed, reopened when the files were replaced."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: GameStore | None = None
        self._lock = threading.Lock()

    def get(self) -> GameStore:
        with self._lock:
            if self._store is not None and not self._store.is_current():
                self._store.close()
                self._store = None
            if self._store is None:
                store = GameStore.of(self.settings)
                store.open()
                self._store = store
            return self._store

    def state(self, game_id: int) -> GameState | None:
        """The game's stored state, or None when the store lacks it or cannot be read (yet)."""
        try:
            return self.get().game(game_id).state
        except (NoStore, NotARecoveryStore, UnknownGame):
            return None

    def drop(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def create_app(settings: Settings) -> FastAPI:
    """The API over `settings.recovery_dir` and `settings.games_topic`."""
    stores = Stores(settings)
    replays = Replays(settings)
    offsets = Offsets(settings)  # Kafka as /health/ready and /metrics see it
    metrics = Metrics(settings, offsets, sockets=lambda: gateway.sockets)
    gateway = Gateway(settings, snapshot=stores.state, latency=metrics.latency)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway.start()
        try:
            yield
        finally:
            gateway.stop()
            stores.drop()
            offsets.close()

    app = FastAPI(
        title="moba query API",
        summary="Games as the Bytewax dataflow's recovery store holds them (interactive queries).",
        lifespan=lifespan,
    )
    _add_error_handlers(app, stores)
    add_gateway(app, gateway)
    add_health(app, lambda: stores.get().check(), offsets)
    add_metrics(app, metrics)
    add_web_page(app, lambda: [snap.state for snap in stores.get().games(archived=True)])

    @app.get("/health")
    def health() -> Health:
        """The API is up; says whether the recovery store can be read and its resume epoch."""
        try:
            return Health(store="ready", resume_epoch=stores.get().check())
        except (NoStore, NotARecoveryStore) as err:
            return Health(store="unavailable", message=str(err))

    @app.get("/games", responses={k: v for k, v in ERRORS.items() if k != 404})
    def list_games(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        after: Annotated[
            int, Query(ge=-1, le=MAX_GAME_ID, description="Cursor: last id seen.")
        ] = -1,
    ) -> GamePage:
        """Games with ids greater than `after`, by id; follow `next_after` for the next page."""
        snaps = stores.get().games(after=after, limit=limit + 1)
        now = now_utc()
        page = [GameSummary.of(snap, now) for snap in snaps[:limit]]
        more = len(snaps) > limit
        return GamePage(
            games=page, limit=limit, after=after, next_after=page[-1].game_id if more else None
        )

    @app.get("/games/{game_id}", responses={**ERRORS, **REPLAY_ERRORS})
    def show_game(
        game_id: GameIdPath,
        version: Annotated[
            int | None,
            Query(ge=0, description="The state at this version, replayed from the actions log."),
        ] = None,
    ) -> GameDetail | ReplayedGame:
        """The game's state (wire format) as recovery would restore it, with its freshness.

        With `version`, the state at that version, rebuilt from the `actions` log.
        """
        if version is not None:
            return replays.at(game_id, version)
        return GameDetail.of(stores.get().game(game_id), now_utc())

    @app.get(
        "/games/{game_id}/events",
        responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}},
        response_class=StreamingResponse,
    )
    async def game_events(
        game_id: GameIdPath,
        last_event_id: Annotated[int | None, Header(ge=-1)] = None,
    ) -> StreamingResponse:
        """Server-sent `state` events: the stored snapshot, then each newer state from Kafka."""
        snap = await run_in_threadpool(lambda: stores.get().game(game_id))
        events = state_events(
            settings,
            snap.state,
            since=snap.written_at,
            after_version=-1 if last_event_id is None else last_event_id,
        )
        return StreamingResponse(
            events,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return app


def _add_error_handlers(app: FastAPI, stores: Stores) -> None:
    def error(
        status: int,
        message: str,
        errors: list[dict[str, object]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        body = ErrorBody(message=message, errors=errors)
        return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)

    @app.exception_handler(UnknownGame)
    async def unknown_game(request: Request, exc: UnknownGame) -> JSONResponse:
        return error(404, str(exc))

    @app.exception_handler(NoStore)
    async def no_store(request: Request, exc: NoStore) -> JSONResponse:
        stores.drop()
        return error(503, str(exc))

    @app.exception_handler(NotARecoveryStore)
    async def not_a_store(request: Request, exc: NotARecoveryStore) -> JSONResponse:
        stores.drop()  # reopen next time: the store may have been replaced
        return error(503, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        summary = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        details: list[dict[str, object]] = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors
        ]
        return error(422, f"invalid request: {summary}", details)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail), headers=exc.headers)  # e.g. 405's Allow

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        return error(500, f"internal error: {type(exc).__name__}")
