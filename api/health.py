"""`/health/live` and `/health/ready`: what a load balancer or an orchestrator asks the API.

Live: the process serves requests (restart it if not). Ready: it can do its work now:
the recovery store is readable and Kafka answers; the body names each check and what
failed, and the status is 503 until both pass (send no traffic yet, do not restart).
"""

from collections.abc import Callable
from typing import Literal

from anyio.to_thread import run_sync
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.offsets import BrokerUnreachable, Offsets
from api.store import NoStore, NotARecoveryStore


class Live(BaseModel):
    """`GET /health/live`: the process answers."""

    status: Literal["live"] = "live"


class Check(BaseModel):
    """One readiness check: whether it passed, and what was seen."""

    ok: bool
    detail: str


class Ready(BaseModel):
    """`GET /health/ready`: 200 when every check passed, else 503 with the same body."""

    ready: bool
    checks: dict[str, Check] = Field(description="`store` (the recovery store) and `kafka`.")


def add_health(app: FastAPI, resume_epoch: Callable[[], int], offsets: Offsets) -> None:
    """Mount the probes; `resume_epoch` reads the store (raising NoStore/NotARecoveryStore)."""

    @app.get("/health/live")
    def live() -> Live:
        """The API process serves requests."""
        return Live()

    @app.get("/health/ready", responses={503: {"model": Ready, "description": "Not ready."}})
    async def ready() -> JSONResponse:
        """Whether the recovery store can be read and Kafka answers; 503 names what failed."""
        checks = {
            "store": await run_sync(_store_check, resume_epoch),
            "kafka": await run_sync(_kafka_check, offsets),
        }
        body = Ready(ready=all(c.ok for c in checks.values()), checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)


def _store_check(resume_epoch: Callable[[], int]) -> Check:
    try:
        return Check(ok=True, detail=f"readable; resume epoch {resume_epoch()}")
    except (NoStore, NotARecoveryStore) as err:
        return Check(ok=False, detail=str(err))


def _kafka_check(offsets: Offsets) -> Check:
    try:
        brokers = offsets.reachable()
    except BrokerUnreachable as err:
        return Check(ok=False, detail=f"no answer at {offsets.settings.bootstrap_servers}: {err}")
    return Check(
        ok=True, detail=f"{brokers} broker(s) answer at {offsets.settings.bootstrap_servers}"
    )
